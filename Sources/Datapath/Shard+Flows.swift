import Conntrack
import FlowTable
import PacketParsing
import TraceIO

/// A shard's phases with a flow table (`FlowPipeline+Phases.swift` says what each one does
/// to a packet; docs/DESIGN.md, "A flow-table packet through the phases").
extension Shard {
    /// Phase 1 with a flow table: packets whose ct calls all hit are finished, the others parked
    /// (or, where no expectation can be met, finished here too: nothing of this shard's window
    /// parked yet, no expectation live on any shard, and no announcer of the window before it
    /// between the same two addresses).
    func runFlowWindow(_ flows: FlowPipeline, _ range: Range<Int>, base: Int, shift: UInt64,
                       dispatchedAt: UInt64, relatedness: RelatednessCheck?, into report: inout WindowReport) {
        flows.beginWindow()
        let alone = routing.shardCount == 1
        let frames = phaseOneFrames
        walkWindow(range, base: base, dispatchedAt: dispatchedAt, into: &report) {
            position, index, record, traceTime, packet, outcome, hash, _, report in
            let packet = packet.pointee
            let frame = record.frame(in: frames)
            let key: MatchKey, untracked: InvalidReason?
            switch flows.ingress(packet, outcome: outcome, frame: frame, record: record) {
            case .done(let verdict):
                sink?.write(verdict, at: index)
                return true
            case .table(let k, let u):
                key = k
                untracked = u
            }
            let time = traceTime &+ shift
            if alone {
                // Alone: the reference loop, as in `runWindow`.
                let verdict = flows.finishAlone(packet, key: key, untracked: untracked, frame: frame, index: index,
                                                time: time, hash: hash)
                sink?.write(verdict, at: index)
                return true
            }
            let verdict = flows.lookup(packet, key: key, untracked: untracked, frame: frame, index: index, time: time,
                                       hash: hash,
                                       commitLocally: report.parked.isEmpty && (relatedness.map {
                                           $0.noneLive && $0.noAnnouncerBefore(position, sharingAddressesWith: packet.key)
                                       } ?? false),
                                       tuple: routing.dispatchHash(of: packet, frame: frame)) { expectation in
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
                           announced: inout [Expectation]) -> PacketVerdict {
        var parked = flows.takeParked(index)
        let key = flows.key(of: packet, record: record)
        while true {
            let resolution = flows.resume(&parked, packet, key: key, frame: frame, time: time) { announced.append($0) }
            for used in parked.consumed { consume(used, time: time, peers) }
            parked.consumed.removeAll()
            switch resolution {
            case .finished(let verdict):
                return verdict
            case .needsExpectation(let missed):
                parked.answer = (missed.zone, expectation(for: missed, time: time, peers))
            }
        }
    }
}
