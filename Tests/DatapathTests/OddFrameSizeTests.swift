import Conntrack
import Datapath
import Foundation
import PacketParsing
import Testing
import TraceIO
import TraceSynthesis

/// Zero-length frames, runts, 9,000-byte jumbo frames and 65,000-byte datagrams, in memory and
/// through a pcap file whose snap length cuts them (issue 8, item 3).
@Suite struct OddFrameSizeTests {
    static let config = FloodConfig(kind: .oddSizes, packets: 50, backgroundFlows: 2)

    /// What each unit of the cycle (empty, runt, jumbo v4, jumbo v6, 65,000-byte v4) gets: the
    /// first two never reach conntrack; the datagrams are tracked, new once, then established.
    func expectOutcomes(_ run: FloodCase.Run, _ f: FloodCase, _ label: String) {
        let skip = Set(f.flooded.summary.backgroundIndices + [f.flooded.summary.lateConnectionSYN!])
        let units = run.verdicts.indices.filter { !skip.contains($0) }
        #expect(units.count == 50)
        for (unit, index) in units.enumerated() {
            let v = run.verdicts[index]
            switch unit % 5 {
            case 0, 1: #expect(v == PacketVerdict(), "\(label): unit \(unit) \(v.state)")
            default:
                let expected: CTState = unit < 5 ? [.tracked, .new] : [.tracked, .established]
                #expect(v.state == expected, "\(label): unit \(unit) \(v.state)")
            }
        }
        let outcomes = run.summary.pipeline.parseOutcomes
        #expect(outcomes[Int(ParseOutcome.truncatedLinkHeader.rawValue)] == 20, "\(label): empty frames and runts")
        #expect(run.summary.pipeline.dropped == 20)
        #expect(run.summary.conntrack.committed == 2 + 1 + 3, "\(label): background, late, three datagram flows")
    }

    @Test func inMemoryThenShardedTheSame() async {
        let f = FloodCase(Self.config)
        let run = FloodCase.single(f.flooded.trace)
        expectOutcomes(run, f, "single partition")
        f.expectBackgroundUnchanged(run, FloodCase.single(f.quiet.trace), "single partition")
        #expect(run.summary.pipeline.bytes == UInt64(f.flooded.summary.bytes))
        for shards in [2, 4] {
            f.expectSameVerdicts(run, await FloodCase.sharded(f.flooded.trace, shards: shards), "\(shards) shards")
        }
    }

    /// Written with a 1,514-byte snap length and loaded back: the big datagrams are cut (wire
    /// length kept), get the same verdicts, and bytes count what was on the wire.
    @Test func beyondTheSnapLength() throws {
        let f = FloodCase(Self.config)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("odd-sizes-\(getpid()).pcap").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (builder, _) = FloodGenerator(config: Self.config).generate()
        try builder.write(to: path, snapLength: 1_514)
        let trace = try TraceLoader.loadComplete(path: path)
        #expect(trace.records.allSatisfy { $0.capturedLength <= 1_514 })
        #expect(trace.records.filter { $0.wireLength > $0.capturedLength }.count == 30)
        let run = FloodCase.single(trace)
        expectOutcomes(run, f, "snapped")
        #expect(run.verdicts == FloodCase.single(f.flooded.trace).verdicts)
        #expect(run.summary.pipeline.bytes == UInt64(f.flooded.summary.bytes))
    }
}
