@testable import Datapath
import Foundation
import Testing

/// Who runs which shard in a window when shards outnumber workers (`ShardClaims`): each shard
/// exactly once per window, its home worker's list first, whatever the workers' timing.
@Suite(.timeLimit(.minutes(5))) struct ShardClaimsTests {
    @Test func homeShardsAreTheShardsAtTheWorkersStride() {
        let claims = ShardClaims(shardCount: 5, workers: 2)
        #expect(claims.homeShards(of: 0) == [0, 2, 4])
        #expect(claims.homeShards(of: 1) == [1, 3])
        #expect(ShardClaims(shardCount: 3, workers: 3).homeShards(of: 2) == [2])
    }

    @Test func aShardIsClaimedOnceInEachWindow() {
        let claims = ShardClaims(shardCount: 4, workers: 2)
        #expect(claims.claim(2, window: 1))
        #expect(!claims.claim(2, window: 1))
        #expect(claims.claim(0, window: 1))  // the same word, another bit
        #expect(claims.claim(1, window: 1))  // another worker's word
        #expect(claims.claim(2, window: 2))  // a new window: nothing taken yet
        #expect(!claims.claim(2, window: 2))
        #expect(claims.claim(0, window: 3))  // windows may be skipped
        #expect(claims.claim(2, window: 3))
    }

    /// The owner claims for the next window only after its list of this one is through, so
    /// a word already on a later window has nothing left of an earlier one.
    @Test func aWordOnALaterWindowHasNothingLeftOfAnEarlierOne() {
        let claims = ShardClaims(shardCount: 4, workers: 2)
        #expect(claims.claim(0, window: 1))
        #expect(claims.claim(2, window: 2))
        #expect(!claims.claim(0, window: 1))
        #expect(!claims.claim(2, window: 1))
        #expect(claims.claim(0, window: 2))
    }

    /// Counts by slot, from any thread. Behind a pthread lock (`NSLock`), which
    /// ThreadSanitizer sees: `Synchronization.Mutex` locks with futexes in the uninstrumented
    /// runtime, and the sanitizer then reported the counts' updates as racing.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [Int]
        init(count: Int) { counts = [Int](repeating: 0, count: count) }
        func add(_ slot: Int) { lock.withLock { counts[slot] += 1 } }
        var values: [Int] { lock.withLock { counts } }
    }

    /// Workers racing through windows as `WindowLoop` does (home list first, then the others'
    /// from the end), with no barrier between windows: every shard of every window is claimed
    /// by exactly one of them.
    @Test(arguments: [(8, 2), (5, 2), (7, 3)])
    func racingWorkersClaimEachShardOfEachWindowOnce(shards: Int, workers: Int) async {
        let windows = 2_000
        let claims = ShardClaims(shardCount: shards, workers: workers)
        let tally = Tally(count: windows * shards)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    for window in 1...windows {
                        let slot = (window - 1) * shards
                        for shard in claims.homeShards(of: worker) where claims.claim(shard, window: UInt32(window)) {
                            tally.add(slot + shard)
                        }
                        for other in 1..<workers {
                            for shard in claims.homeShards(of: (worker + other) % workers).reversed()
                            where claims.claim(shard, window: UInt32(window)) {
                                tally.add(slot + shard)
                            }
                        }
                    }
                }
            }
        }
        let counts = tally.values
        #expect(counts.allSatisfy { $0 == 1 }, "claims per shard and window: \(Set(counts))")
    }

    @Test func windowReportsFillACacheLineEach() {
        // Adjacent shards' reports are written by different workers: a line each, no sharing.
        #expect(MemoryLayout<Shard.WindowReport>.stride == 64)
    }
}
