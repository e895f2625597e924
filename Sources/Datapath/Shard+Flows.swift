import Conntrack
import FlowTable
import PacketParsing
import TraceIO

/// A shard's phases with a flow table (`FlowPipeline+Phases.swift` says what each one does
/// to a packet; docs/DESIGN.md, "A flow-table packet through the phases").
extension Shard {
    /// Phase 1 with a flow table: packets whose ct calls all hit are finished, the others parked.
    func runFlowWindow(_ flows: FlowPipeline, _ range: Range<Int>, base: Int, shift: UInt64,
                       dispatchedAt: UInt64) -> WindowReport {
        flows.beginWindow()
        var packet = ParsedPacket()
        return walkWindow(range, base: base, dispatchedAt: dispatchedAt) { position, index, frame, record, report in
            let key: MatchKey, untracked: InvalidReason?
            switch flows.ingress(frame, record: record, into: &packet) {
            case .done(let verdict):
                sink?.write(verdict, at: index)
                return true
            case .table(let k, let u):
                key = k
                untracked = u
            }
            let time = times[position] &+ shift
            if routing.shardCount == 1 {
                // Alone: the reference loop, as in `runWindow`.
                let verdict = flows.finishAlone(packet, key: key, untracked: untracked, frame: frame, index: index, time: time)
                sink?.write(verdict, at: index)
                return true
            }
            let tuple = untracked == nil ? routing.dispatchHash(of: packet, frame: frame) : 0
            let verdict = flows.lookup(packet, key: key, untracked: untracked, frame: frame, index: index, time: time,
                                       tuple: tuple) { expectation in
                report.deferred.append((index, routing.owner(of: expectation.key), .expectation(expectation)))
            }
            return settle(verdict, at: index, mayAnnounce: flows.mayAnnounce(packet), into: &report)
        }
    }

    /// Phase 2b with a flow table: reruns the parked packet until every ct call is answered,
    /// asking the owner of each missed call's expectation (once per zone) and telling it of each
    /// commit that used one. Announcements are left in `announced` for the caller to deliver.
    func resolveFlowParked(_ flows: FlowPipeline, _ packet: ParsedPacket, record: PacketRecord,
                           frame: UnsafeRawBufferPointer, index: Int, time: UInt64, peers: [Shard],
                           announced: inout [Expectation]) async -> PacketVerdict {
        var parked = flows.takeParked(index)
        let key = flows.key(of: packet, record: record)
        while true {
            let resolution = flows.resume(&parked, packet, key: key, frame: frame, time: time) { announced.append($0) }
            for used in parked.consumed { await consume(used, time: time, peers) }
            parked.consumed.removeAll()
            switch resolution {
            case .finished(let verdict):
                return verdict
            case .needsExpectation(let missed):
                parked.answer = (missed.zone, await expectation(for: missed, time: time, peers))
            }
        }
    }
}
