import Synchronization

/// Which worker runs which shard in a window, when shards outnumber workers. Shard s's home
/// worker is s % workers; in a window each worker runs its home shards first and then takes
/// any shard of another worker that no one has started (`WindowLoop`), so a worker on a faster
/// processor does more of the window instead of waiting for the slower one at the barrier.
///
/// A shard is run by whoever claims it for the window (`claim`): exactly one claim succeeds per
/// shard and window, so a shard's state is still touched by one thread at a time. Each worker's
/// home shards share one claim word: the window's number in the high 32 bits, a bit per home
/// shard taken in the low 32. A word from an earlier window reads as nothing taken, one from a
/// later window as everything taken; nothing is ever reset, so a late claim can never clear a
/// later window's. Each word sits on a cache line of its own (the owner's claims stay in its
/// cache unless another worker came to take).
///
/// `@unchecked Sendable`: `words` is written once, at init; the words themselves are atomics.
final class ShardClaims: @unchecked Sendable {
    let workers: Int
    let shardCount: Int
    /// The workers' claim words, unretained (`owners` keeps them alive): a retain per claim
    /// would write the word's object header from both workers.
    private let words: UnsafeMutableBufferPointer<Unmanaged<ClaimWord>>
    private let owners: [ClaimWord]

    /// Home shards a worker may have at most (the claim word's low half).
    static let maxHomeShards = 32

    init(shardCount: Int, workers: Int) {
        precondition(workers > 0 && shardCount >= workers)
        precondition((shardCount + workers - 1) / workers <= ShardClaims.maxHomeShards,
                     "ShardClaims: more than \(ShardClaims.maxHomeShards) shards a worker")
        self.workers = workers
        self.shardCount = shardCount
        owners = (0..<workers).map { _ in ClaimWord() }
        words = .allocate(capacity: workers)
        _ = words.initialize(from: owners.map { Unmanaged.passUnretained($0) })
    }

    deinit { words.deallocate() }

    /// The shards whose home is `worker`, ascending.
    func homeShards(of worker: Int) -> [Int] { Array(stride(from: worker, to: shardCount, by: workers)) }

    /// True for the one caller that claims `shard` in window `window` (numbered from 1, the
    /// same numbering for every worker); false when someone already has.
    func claim(_ shard: Int, window: UInt32) -> Bool {
        words[shard % workers]._withUnsafeGuaranteedRef { claim(shard, window: window, in: $0) }
    }

    private func claim(_ shard: Int, window: UInt32, in word: ClaimWord) -> Bool {
        let bit = UInt64(1) << UInt64(shard / workers)
        let stamp = UInt64(window) << 32
        var seen = word.value.load(ordering: .relaxed)
        while true {
            // The owner claims its shards for the next window only after it has run through its
            // list of this one (each shard claimed by it or taken): nothing is left.
            if seen >> 32 > UInt64(window) { return false }
            let taken = seen >> 32 == UInt64(window) ? seen & 0xFFFF_FFFF : 0
            if taken & bit != 0 { return false }
            let (exchanged, original) = word.value.compareExchange(expected: seen, desired: stamp | taken | bit,
                                                                   ordering: .acquiringAndReleasing)
            if exchanged { return true }
            seen = original
        }
    }
}

/// One worker's claim word, alone on its cache line: the atomic sits 64 bytes into the object
/// and 64 bytes of padding follow it, so no other object shares its line.
private final class ClaimWord: Sendable {
    private let before: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    let value = Atomic<UInt64>(0)
    private let after: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
}
