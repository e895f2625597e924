import ArgumentParser

/// How a trace is replayed: repetitions, shards, batch size, or the plain reference loop.
/// Shared by `run` and `sweep`.
struct ReplayOptions: ParsableArguments {
    @Option(help: "Timed repetitions of the trace (trace time stays monotonic).")
    var loop = 1

    @Option(help: "Untimed repetitions first, on a throwaway table.")
    var warmup = 0

    @Option(help: "Shards (shard actors, one conntrack partition each).")
    var threads = 1

    @Option(help: "Packets per shard per window (see README: the ordering rule).")
    var batch = ReplayOptions.defaultBatch

    @Flag(name: .customLong("single-partition"), help: "Run the plain single-partition loop (the reference) instead of the sharded datapath.")
    var singlePartition = false

    @Flag(name: .customLong("no-pin"), help: "Leave the shard threads to the scheduler (default: thread k pinned to the k-th processor the process may use).")
    var noPin = false

    @Flag(name: .customLong("shared-frames"), help: "With two threads or more, read the frames from the shared trace instead of a copy per shard (saves one trace of memory; slower).")
    var sharedFrames = false

    /// Chosen from the batch-size curve (results/sharded-datapath.md).
    static let defaultBatch = 256

    func validate() throws {
        if loop < 1 { throw ValidationError("--loop must be at least 1") }
        if threads < 1 || threads > 256 { throw ValidationError("--threads must be between 1 and 256") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative") }
    }
}
