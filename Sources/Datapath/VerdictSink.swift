/// Where shards write each packet's verdict, indexed by global packet index.
///
/// `@unchecked Sendable` because the compiler cannot see the rule that makes it safe: each
/// index is written by exactly one shard (the packet's owner), in one phase of one window, and
/// read only after the run has joined every shard task (the task-group join orders the writes
/// before the reads). The ThreadSanitizer run of the test suite checks it.
public final class VerdictSink: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<PacketVerdict>

    public init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: PacketVerdict())
    }

    deinit { storage.deallocate() }

    public var count: Int { storage.count }

    @inline(__always)
    func write(_ verdict: PacketVerdict, at index: Int) { storage[index] = verdict }

    /// The verdicts, in packet order (after the run).
    public var verdicts: [PacketVerdict] { Array(storage) }
}
