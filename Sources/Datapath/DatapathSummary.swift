import ApplicationGateways
import Conntrack

/// The counters of a finished run, added up over every partition: what the reports print.
public struct DatapathSummary: Sendable {
    public var pipeline = PipelineCounters()
    public var conntrack = ConntrackStats()
    public var expectations = ExpectationStats()
    public var alg = ALGStats()
    public var router = RouterStats()
    /// Each worker thread's time accounting (empty with one shard): a worker that waits far
    /// more than the other is the faster one, its vCPU running ahead of the other's.
    public var workers: [RouterStats] = []
    /// Connections stored at the end, per shard.
    public var liveConnectionsPerShard: [Int] = []
    /// Packets each shard processed.
    public var packetsPerShard: [UInt64] = []
    public var liveExpectations = 0
    public var bytesPerConnectionSlot = 0.0
    public var maxConnections = 0
    /// Latency histograms, when they were measured.
    public var latency: LatencyRecorder?
    /// Packets per final action (a flow table's; empty for the default pipeline).
    public var actions = ActionCounts()
    /// Packets the walks took through the look-ahead's ring, and directly (`LookAheadChooser`).
    public var lookAheadRingPackets: UInt64 = 0
    public var lookAheadDirectPackets: UInt64 = 0

    public init() {}

    public var liveConnections: Int { liveConnectionsPerShard.reduce(0, +) }

    /// Adds one partition's figures.
    public mutating func add(_ pipeline: DefaultPipeline) {
        self.pipeline.merge(pipeline.counters)
        conntrack.merge(pipeline.partition.stats)
        expectations.merge(pipeline.partition.expectations.stats)
        alg.merge(pipeline.algs.stats)
        liveConnectionsPerShard.append(pipeline.partition.count)
        packetsPerShard.append(pipeline.counters.packets)
        liveExpectations += pipeline.partition.expectations.count
        bytesPerConnectionSlot = pipeline.partition.bytesPerConnection
        maxConnections += pipeline.partition.config.maxConnections
        lookAheadRingPackets += pipeline.lookAheadPackets.ring
        lookAheadDirectPackets += pipeline.lookAheadPackets.direct
    }

    /// Adds another shard's summary.
    public mutating func merge(_ o: DatapathSummary) {
        pipeline.merge(o.pipeline)
        conntrack.merge(o.conntrack)
        expectations.merge(o.expectations)
        alg.merge(o.alg)
        router.expectationsSent += o.router.expectationsSent
        router.lookupsSent += o.router.lookupsSent
        router.masterChecksSent += o.router.masterChecksSent
        router.masterDeathsSent += o.router.masterDeathsSent
        router.parkedPackets += o.router.parkedPackets
        actions.merge(o.actions)
        router.windows = max(router.windows, o.router.windows)
        liveConnectionsPerShard += o.liveConnectionsPerShard
        packetsPerShard += o.packetsPerShard
        liveExpectations += o.liveExpectations
        bytesPerConnectionSlot = o.bytesPerConnectionSlot
        maxConnections += o.maxConnections
        lookAheadRingPackets += o.lookAheadRingPackets
        lookAheadDirectPackets += o.lookAheadDirectPackets
        if let other = o.latency {
            if latency == nil { latency = other } else { latency!.merge(other) }
        }
    }

    /// The figures of a single-partition run.
    public init(_ pipeline: DefaultPipeline) {
        self.init()
        add(pipeline)
    }

    /// The figures of a single-partition run with a flow table.
    public init(_ pipeline: FlowPipeline) {
        self.init(pipeline.core)
        actions = pipeline.actions
    }
}
