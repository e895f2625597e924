import Conntrack
import Datapath
import FlowTable
import TraceIO

/// The two ways `ctbench run` replays a trace: the single-partition reference loop and the
/// sharded datapath, each with the default pipeline or a flow table.
extension RunCommand {
    /// What a replay leaves for the report and the files.
    struct Outcome {
        var summary: DatapathSummary
        var seconds: Double
        var verdictLines: [String] = []
        var connections: [String] = []
        var expectations: [String] = []
    }

    /// The plain single-partition loop (the reference) over pipelines from `make`. `collects`:
    /// verdict lines and dumps, where the options ask for them (one pass of several does).
    func replayAlone<Pipeline: ReportedPipeline>(_ trace: Trace, collects: Bool = true, make: () -> Pipeline) -> Outcome {
        let clock = ContinuousClock()
        let replay = TraceReplay(trace: trace)
        for w in 0..<warmup { replay.run(loop: w, through: make()) }
        let pipeline = make()
        var verdictLines: [String] = []
        let collectsVerdicts = collects && verdicts != nil
        var latency: LatencyRecorder? = noLatency || verdicts != nil ? nil : LatencyRecorder()
        let start = clock.now
        for l in 0..<loop {
            if collectsVerdicts {
                replay.run(loop: l, through: pipeline) { index, verdict in verdictLines.append(verdict.line(index: index)) }
            } else {
                replay.run(loop: l, through: pipeline, latency: &latency)
            }
        }
        var outcome = Outcome(summary: pipeline.summary, seconds: RunCommand.seconds(clock.now - start),
                              verdictLines: verdictLines)
        outcome.summary.latency = latency
        if collects && dumpConntrack != nil { outcome.connections = pipeline.partition.dumpConnections() }
        if collects && dumpExpectations != nil { outcome.expectations = pipeline.partition.expectations.dump() }
        return outcome
    }

    /// The sharded datapath: `threads` worker threads over `replay.shardCount` shards, `batch`
    /// packets per thread and window.
    func replaySharded(_ loaded: LoadedTraces, settings: TableOptions.Settings, policy: FlowPolicy?,
                       collects: Bool = true) async -> Outcome {
        let clock = ContinuousClock()
        let perShard = settings.dividedAmong(replay.shardCount, perThread: replay.shardCount / threads)
        let makePipeline: @Sendable () -> DefaultPipeline = { perShard.makePipeline() }
        for _ in 0..<warmup {
            let warm = ShardedDatapath(trace: loaded.trace, shardCount: replay.shardCount, workerCount: threads, batch: batch,
                                       hashSeed: perShard.conntrack.hashSeed, collectVerdicts: false,
                                       policy: policy, receiveBuffers: !replay.sharedFrames, makePipeline: makePipeline)
            await warm.run(loop: 0)
        }
        let datapath = ShardedDatapath(trace: loaded.trace, shardCount: replay.shardCount, workerCount: threads, batch: batch,
                                       hashSeed: perShard.conntrack.hashSeed, collectVerdicts: collects && verdicts != nil,
                                       loops: loop, measureLatency: !noLatency, pinThreads: !noPin, policy: policy,
                                       receiveBuffers: !replay.sharedFrames,
                                       makePipeline: makePipeline)
        let progress = ProgressLine(totalPackets: loaded.trace.count * loop)
        let start = clock.now
        for l in 0..<loop {
            let done = l * loaded.trace.count
            await datapath.run(loop: l) { progress.update(packetsDone: done + $0) }
        }
        let seconds = RunCommand.seconds(clock.now - start)
        progress.finish()
        var outcome = Outcome(summary: await datapath.summary(), seconds: seconds)
        if let sink = datapath.sink {
            outcome.verdictLines = sink.verdicts.enumerated().map { $0.element.line(index: $0.offset) }
        }
        if collects && dumpConntrack != nil { outcome.connections = await datapath.dumpConnections() }
        if collects && dumpExpectations != nil { outcome.expectations = await datapath.dumpExpectations() }
        return outcome
    }
}

/// A pipeline the single-partition loop can report on: its partition (for the dumps) and its
/// figures.
protocol ReportedPipeline: ReplayPipeline {
    var partition: ConntrackPartition { get }
    var summary: DatapathSummary { get }
}

extension DefaultPipeline: ReportedPipeline {
    var summary: DatapathSummary { DatapathSummary(self) }
}

extension FlowPipeline: ReportedPipeline {
    var summary: DatapathSummary { DatapathSummary(self) }
}
