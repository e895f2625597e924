import Conntrack
import Datapath
import Testing
import TraceIO
import TraceSynthesis

/// A flood trace and the same background traffic without the flood, each replayed through the
/// single partition and the sharded datapath (shared by the flood tests).
struct FloodCase {
    let flooded: (trace: Trace, summary: FloodSummary)
    let quiet: (trace: Trace, summary: FloodSummary)

    init(_ config: FloodConfig) {
        let (builder, summary) = FloodGenerator(config: config).generate()
        flooded = (builder.makeTrace(name: "\(config.kind.rawValue) flood"), summary)
        var calm = config
        calm.packets = 0
        let (quietBuilder, quietSummary) = FloodGenerator(config: calm).generate()
        quiet = (quietBuilder.makeTrace(name: "no flood"), quietSummary)
    }

    /// Verdicts and figures of one run.
    struct Run {
        var verdicts: [PacketVerdict]
        var summary: DatapathSummary
        var pipelines: [DefaultPipeline] = []
    }

    static func single(_ trace: Trace, config: ConntrackConfig = ConntrackConfig(maxConnections: 10_000),
                       limits: ExpectationTable.Limits = .init()) -> Run {
        let pipeline = DefaultPipeline(config: config, expectationLimits: limits)
        var verdicts: [PacketVerdict] = []
        verdicts.reserveCapacity(trace.count)
        TraceReplay(trace: trace).run(loop: 0, through: pipeline) { _, verdict in verdicts.append(verdict) }
        return Run(verdicts: verdicts, summary: DatapathSummary(pipeline), pipelines: [pipeline])
    }

    /// `shards` shards, the table limits split among them as `ctbench run --threads` does.
    static func sharded(_ trace: Trace, shards: Int, batch: Int = 64,
                        config: ConntrackConfig = ConntrackConfig(maxConnections: 10_000),
                        limits: ExpectationTable.Limits = .init()) async -> Run {
        var each = config
        each.maxConnections = (config.maxConnections + shards - 1) / shards
        var eachLimits = limits
        eachLimits.maxExpectations = (limits.maxExpectations + shards - 1) / shards
        let (shardConfig, shardLimits) = (each, eachLimits)
        let datapath = ShardedDatapath(trace: trace, shardCount: shards, batch: batch, hashSeed: config.hashSeed,
                                       collectVerdicts: true) {
            DefaultPipeline(config: shardConfig, expectationLimits: shardLimits)
        }
        await datapath.run(loop: 0)
        return Run(verdicts: datapath.sink?.verdicts ?? [], summary: await datapath.summary())
    }

    /// Every background packet's verdict in `run` (of the flooded trace) equals its verdict
    /// in `quietRun` (the trace without the flood), connection ids mapped between the traces.
    func expectBackgroundUnchanged(_ run: Run, _ quietRun: Run, _ label: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) {
        let toFlooded = Dictionary(uniqueKeysWithValues: zip(quiet.summary.backgroundIndices, flooded.summary.backgroundIndices))
        #expect(flooded.summary.backgroundIndices.count == quiet.summary.backgroundIndices.count, sourceLocation: sourceLocation)
        var mismatches = 0
        for (quietIndex, floodedIndex) in toFlooded {
            var expected = quietRun.verdicts[quietIndex]
            if expected.connectionID != Connection.noID {
                expected.connectionID = UInt64(toFlooded[Int(expected.connectionID)] ?? -1)
            }
            let got = run.verdicts[floodedIndex]
            if got != expected {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record("\(label): background packet \(floodedIndex) is \(got.state) conn \(got.connectionID), without the flood \(expected.state) conn \(expected.connectionID)",
                                 sourceLocation: sourceLocation)
                }
            }
        }
        #expect(mismatches == 0, "\(label): \(mismatches) background verdicts changed", sourceLocation: sourceLocation)
        #expect(quietRun.verdicts.allSatisfy { $0.state == [.tracked, .new] || $0.state.contains(.established) },
                "the background alone is well-behaved", sourceLocation: sourceLocation)
    }

    func expectSameVerdicts(_ a: Run, _ b: Run, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.verdicts.count == b.verdicts.count, sourceLocation: sourceLocation)
        let first = zip(a.verdicts, b.verdicts).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(first == nil, "\(label): packet \(first?.offset ?? -1): \(String(describing: first?.element.0)) vs \(String(describing: first?.element.1))",
                sourceLocation: sourceLocation)
    }
}

extension DatapathSummary {
    func invalid(_ reason: InvalidReason) -> UInt64 { conntrack.invalidByReason[Int(reason.rawValue)] }
}
