import Conntrack
import Datapath
import Testing
import TraceSynthesis

/// A SYN flood four times larger than the table (issue 8, item 3): the table fills, every
/// further new connection is refused and counted, and the connections established before
/// the flood keep exactly the verdicts they have without it, single partition or sharded.
@Suite struct SYNFloodTests {
    static let limit = 1_000
    static let flood = FloodCase(FloodConfig(kind: .syn, packets: 4_000, backgroundFlows: 8))
    static var config: ConntrackConfig { ConntrackConfig(maxConnections: limit) }

    @Test func singlePartitionFillsRefusesAndCounts() {
        let f = Self.flood
        let run = FloodCase.single(f.flooded.trace, config: Self.config)
        f.expectBackgroundUnchanged(run, FloodCase.single(f.quiet.trace, config: Self.config), "single partition")
        let ct = run.summary.conntrack
        // 8 background connections, then SYNs until the table is full; the rest are refused.
        #expect(run.summary.liveConnections == Self.limit)
        #expect(ct.committed == UInt64(Self.limit))
        let floodSYNs = f.flooded.summary.floodFrames
        let offered = floodSYNs + 1  // and the well-behaved connection opened half-way
        #expect(ct.refusedByLimit == UInt64(offered - (Self.limit - 8)))
        #expect(run.summary.pipeline.dropped == ct.refusedByLimit)
        let late = try! #require(f.flooded.summary.lateConnectionSYN)
        #expect(run.verdicts[late] == PacketVerdict(state: [.tracked, .new]), "the late connection is refused: no id")
        // Every SYN is +trk+new; the first ones committed (their own index as id), the others not.
        let synVerdicts = run.verdicts.enumerated().filter { !Set(f.flooded.summary.backgroundIndices).contains($0.offset) }
        #expect(synVerdicts.allSatisfy { $0.element.state == [.tracked, .new] })
        let committed = synVerdicts.filter { $0.element.connectionID != Connection.noID }
        #expect(committed.count == Self.limit - 8)
        #expect(committed.allSatisfy { $0.element.connectionID == UInt64($0.offset) })
    }

    /// Sharded, each shard holds a quarter or half of the table: which SYN a full shard refuses
    /// depends on the shard count, so the flood's own verdicts may differ; the background's may not.
    @Test(arguments: [2, 4])
    func shardedKeepsTheBackgroundAndFillsEveryShard(shards: Int) async {
        let f = Self.flood
        let run = await FloodCase.sharded(f.flooded.trace, shards: shards, config: Self.config)
        f.expectBackgroundUnchanged(run, FloodCase.single(f.quiet.trace, config: Self.config), "\(shards) shards")
        let perShard = (Self.limit + shards - 1) / shards
        #expect(run.summary.liveConnectionsPerShard == [Int](repeating: perShard, count: shards))
        let ct = run.summary.conntrack
        #expect(ct.committed + ct.refusedByLimit == UInt64(8 + f.flooded.summary.floodFrames + 1))
        #expect(run.verdicts.allSatisfy { $0.state == [.tracked, .new] || $0.state.contains(.established) })
    }
}
