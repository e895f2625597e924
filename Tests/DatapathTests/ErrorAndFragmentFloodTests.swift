import Conntrack
import Datapath
import Testing
import TraceSynthesis

/// ICMP error storms quoting random tuples and traces of nothing but fragments (issue 8,
/// item 3): counted as invalid, nothing committed, live connections untouched, and the same
/// verdicts single partition or sharded.
@Suite struct ErrorAndFragmentFloodTests {
    @Test func icmpErrorStormIsUnrelatedAndCounted() async {
        let f = FloodCase(FloodConfig(kind: .icmpErrors, packets: 3_000, backgroundFlows: 4))
        let s = f.flooded.summary
        let run = FloodCase.single(f.flooded.trace)
        f.expectBackgroundUnchanged(run, FloodCase.single(f.quiet.trace), "single partition")
        let related = Set(s.relatedErrors)
        #expect(related.count == 3_000 / 64)
        let notErrors = Set(s.backgroundIndices + [s.lateConnectionSYN!])
        for index in run.verdicts.indices where !notErrors.contains(index) {
            let v = run.verdicts[index]
            if related.contains(index) {
                // Quotes a live background connection: related to it, not invalid.
                #expect(v.state.isSuperset(of: [.tracked, .related]) && !v.state.contains(.invalid), "error \(index): \(v.state)")
                #expect(v.connectionID != Connection.noID)
            } else {
                #expect(v == PacketVerdict(state: [.tracked, .invalid]), "error \(index): \(v.state)")
            }
        }
        #expect(run.summary.invalid(.icmpErrorUnrelated) == UInt64(3_000 - related.count))
        #expect(run.summary.conntrack.committed == 5, "only the background connections and the late one")
        #expect(run.summary.pipeline.dropped == UInt64(3_000 - related.count))
        for shards in [2, 4] {
            f.expectSameVerdicts(run, await FloodCase.sharded(f.flooded.trace, shards: shards), "\(shards) shards")
        }
    }

    @Test func fragmentsOnlyAreInvalidAndCounted() async {
        let f = FloodCase(FloodConfig(kind: .fragments, packets: 3_000, backgroundFlows: 0))
        let run = FloodCase.single(f.flooded.trace)
        #expect(run.verdicts.count == 3_000)
        #expect(run.verdicts.allSatisfy { $0 == PacketVerdict(state: [.tracked, .invalid]) })
        #expect(run.summary.invalid(.fragment) == 3_000)
        #expect(run.summary.conntrack.committed == 0)
        #expect(run.summary.pipeline.dropped == 3_000)
        #expect(run.summary.pipeline.parseOutcomes[0] == 3_000, "every fragment parses")
        for shards in [2, 4] {
            f.expectSameVerdicts(run, await FloodCase.sharded(f.flooded.trace, shards: shards), "\(shards) shards")
        }
    }
}
