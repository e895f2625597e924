import ApplicationGateways
import Conntrack
import Datapath
import Testing
import TraceSynthesis

/// One FTP control connection sending 3,000 PORT commands (issue 8, item 3): the per-master
/// limit holds, the expectation table and its expiry queue stay bounded, the control
/// connection's packets keep flowing, bounces are refused and counted, the background is
/// untouched, and the sharded datapath gives the same verdicts.
@Suite struct ExpectationFloodTests {
    static let commands = 3_000
    static let flood = FloodCase(FloodConfig(kind: .expectations, packets: commands, backgroundFlows: 4))

    @Test func perMasterLimitHoldsAndTheControlConnectionFlows() async {
        let f = Self.flood
        let s = f.flooded.summary
        let run = FloodCase.single(f.flooded.trace)
        f.expectBackgroundUnchanged(run, FloodCase.single(f.quiet.trace), "single partition")
        let pipeline = run.pipelines[0]
        let table = pipeline.partition.expectations
        let bounces = s.bounceCommands.count
        #expect(bounces == Self.commands / 16)
        // Every announcement made an expectation; all but the newest 32 were evicted.
        #expect(table.stats.created == UInt64(Self.commands - bounces))
        #expect(table.stats.evictedByMasterLimit == table.stats.created - 32)
        #expect(table.stats.matched == 1)
        #expect(table.count == 31, "32 live at the end of the flood; the newest one used by its data connection")
        // Memory: the expiry queue does not keep an entry per announcement.
        #expect(table.pendingExpiryEntries <= 2 * 32 + 1_024, "expiry queue holds \(table.pendingExpiryEntries) entries")
        // The control connection keeps flowing; each bounce is refused (+inv) and counted.
        let controlID = UInt64(s.controlIndices[0])
        let bounceSet = Set(s.bounceCommands)
        for index in s.controlIndices {
            let v = run.verdicts[index]
            #expect(v.connectionID == controlID)
            if index == s.controlIndices[0] { #expect(v.state == [.tracked, .new]); continue }
            #expect(v.state.contains(.established), "control packet \(index): \(v.state)")
            #expect(v.state.contains(.invalid) == bounceSet.contains(index), "control packet \(index): \(v.state)")
        }
        #expect(pipeline.algs.stats.ftpRejected[Int(FTPRejectReason.addressNotControlPeer.rawValue)] == UInt64(bounces))
        // The newest announced port still has its expectation; the oldest was evicted long ago.
        let newest = try! #require(s.dataToNewestPort), oldest = try! #require(s.dataToOldestPort)
        #expect(run.verdicts[newest] == PacketVerdict(state: [.tracked, .new, .related], connectionID: UInt64(newest), masterID: controlID))
        #expect(run.verdicts[oldest] == PacketVerdict(state: [.tracked, .new], connectionID: UInt64(oldest)))

        for shards in [2, 4] {
            let sharded = await FloodCase.sharded(f.flooded.trace, shards: shards)
            f.expectSameVerdicts(run, sharded, "\(shards) shards")
            #expect(sharded.summary.expectations.evictedByMasterLimit == table.stats.evictedByMasterLimit)
        }
    }

    /// A table limit below the per-master limit: further announcements are refused (counted),
    /// the oldest expectations stay.
    @Test func tableLimitRefusesAndKeepsTheOldest() {
        let f = Self.flood
        let s = f.flooded.summary
        let run = FloodCase.single(f.flooded.trace, limits: ExpectationTable.Limits(maxExpectations: 8, perMasterLimit: 32))
        let table = run.pipelines[0].partition.expectations
        #expect(table.stats.created == 8)
        #expect(table.stats.refusedByTableLimit == UInt64(Self.commands - s.bounceCommands.count - 8))
        #expect(table.stats.evictedByMasterLimit == 0)
        #expect(run.verdicts[s.dataToNewestPort!].state == [.tracked, .new])
        #expect(run.verdicts[s.dataToOldestPort!].state == [.tracked, .new, .related])
        #expect(table.pendingExpiryEntries <= 8 + 1_024)
    }
}
