import ArgumentParser

/// How a trace is replayed: repetitions, shards, batch size, or the plain reference loop.
/// Shared by `run` and `sweep`.
struct ReplayOptions: ParsableArguments {
    @Option(help: "Timed repetitions of the trace (trace time stays monotonic).")
    var loop = 1

    @Option(help: "Untimed repetitions first, on a throwaway table.")
    var warmup = 0

    @Option(help: "Timed passes over the trace, each on a fresh table: the report is the median pass's (by time), and lists every pass's Mpps. Cheaper than several runs on a noisy machine: the trace is loaded once.")
    var passes = 1

    @Option(help: "Worker threads (one: a single conntrack partition; more: --shards-per-thread partitions each).")
    var threads = 1

    @Option(help: "Packets per thread per window (see README: the ordering rule).")
    var batch = ReplayOptions.defaultBatch

    @Option(name: .customLong("shards-per-thread"), help: "With two threads or more, conntrack partitions (shards) per thread: a thread runs its own shards of a window, then any shard of another thread that no one has started.")
    var shardsPerThread = ReplayOptions.defaultShardsPerThread

    @Flag(name: .customLong("single-partition"), help: "Run the plain single-partition loop (the reference) instead of the sharded datapath.")
    var singlePartition = false

    @Flag(name: .customLong("no-pin"), help: "Leave the shard threads to the scheduler (default: thread k pinned to the k-th processor the process may use).")
    var noPin = false

    @Flag(name: .customLong("shared-frames"), help: "With two threads or more, read the frames from the shared trace instead of a copy per shard (saves one trace of memory; slower).")
    var sharedFrames = false

    /// Chosen from the batch-size curve (results/sharded-datapath.md).
    static let defaultBatch = 256

    /// Shards per thread by default (results/sharded-datapath.md).
    static let defaultShardsPerThread = 4

    /// Conntrack partitions (shards) of the run: `shardsPerThread` a thread, one with one thread.
    var shardCount: Int { threads == 1 ? 1 : threads * shardsPerThread }

    func validate() throws {
        if loop < 1 { throw ValidationError("--loop must be at least 1") }
        if threads < 1 || threads > 256 { throw ValidationError("--threads must be between 1 and 256") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if shardsPerThread < 1 || shardsPerThread > 32 {
            throw ValidationError("--shards-per-thread must be between 1 and 32")
        }
        if warmup < 0 { throw ValidationError("--warmup must not be negative") }
        if passes < 1 || passes > 100 { throw ValidationError("--passes must be between 1 and 100") }
    }
}
