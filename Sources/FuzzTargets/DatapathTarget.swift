import Conntrack
import Datapath

/// The `datapath` target: the fuzzed trace (`FuzzFrames`) through the single-partition
/// reference and through the sharded datapath with 2 and 4 shards; every verdict must be the
/// same (docs/DESIGN.md, "Determinism"), and so must the summed counters.
///
/// The tables are large enough that nothing is refused (per-shard limits make refusals depend
/// on the shard count); the per-master expectation limit stays small, since one owner enforces it.
enum DatapathTarget {
    static let configurations = [(shards: 2, batch: 1), (shards: 4, batch: 5)]

    static func run(_ input: [UInt8]) async -> [String] {
        let frames = input.withUnsafeBytes { FuzzFrames($0) }
        let trace = frames.trace
        let config = ConntrackConfig(maxConnections: 256, checksums: frames.checksums)
        let limits = ExpectationTable.Limits(maxExpectations: 1024, perMasterLimit: frames.tinyTables ? 1 : 4)
        let algs = frames.algsEnabled
        let reference = DefaultPipeline(config: config, expectationLimits: limits, algsEnabled: algs)
        var expected: [PacketVerdict] = []
        TraceReplay(trace: trace).run(loop: 0, through: reference) { _, verdict in expected.append(verdict) }
        var checks = Invariants()
        for (shards, batch) in configurations {
            let datapath = ShardedDatapath(trace: trace, shardCount: shards, batch: batch, hashSeed: config.hashSeed,
                                           collectVerdicts: true) {
                DefaultPipeline(config: config, expectationLimits: limits, algsEnabled: algs)
            }
            await datapath.run(loop: 0)
            let got = datapath.sink?.verdicts ?? []
            checks.check(got.count == expected.count, "\(shards) shards: \(got.count) verdicts for \(expected.count) packets")
            if let i = zip(expected, got).indices(where: { $0.0 != $0.1 }).first {
                checks.check(false, "\(shards) shards, batch \(batch): packet \(i) is \(got[i].state) conn \(got[i].connectionID) "
                             + "master \(got[i].masterID), the single partition says \(expected[i].state) conn "
                             + "\(expected[i].connectionID) master \(expected[i].masterID)")
            }
            let summary = await datapath.summary()
            checks.check(summary.conntrack.committed == reference.partition.stats.committed,
                         "\(shards) shards committed \(summary.conntrack.committed), the single partition \(reference.partition.stats.committed)")
            checks.check(summary.expectations.matched == reference.partition.expectations.stats.matched,
                         "\(shards) shards matched \(summary.expectations.matched) expectations, the single partition "
                         + "\(reference.partition.expectations.stats.matched)")
        }
        return checks.violations
    }
}

extension Zip2Sequence {
    /// Positions where `body` is true.
    fileprivate func indices(where body: ((Sequence1.Element, Sequence2.Element)) -> Bool) -> [Int] {
        enumerated().filter { body($0.element) }.map(\.offset)
    }
}
