import Conntrack
import FlowTable
import PacketParsing

/// A packet that phase 1 parked, with the ct calls it made before the miss.
struct ParkedFlowPacket {
    var index: Int
    var run: FlowRun
    /// The expectation the owner shard answered for the last call that needed one, in its
    /// zone: a later miss of the same packet in the same zone uses it without asking again.
    var answer: (zone: UInt16, expected: Expectation?)?
    /// Keys whose expectation a commit of this packet used: the owner must consume them.
    var consumed: [FlowKey] = []
}

/// The flow table in the sharded datapath's phases (docs/DESIGN.md, "A flow-table packet").
///
/// Phase 1 (`lookup`) runs the classifier with ct calls that may only find existing
/// connections; the first call that misses aborts the run and parks the packet with the
/// verdicts of the calls before it (their effects, ALG announcements included, happened).
/// Phase 2 reruns the classifier from the start, replaying those verdicts, and answers the
/// missed call (and any later ones) in full: locally when no expectation can be involved
/// (`resolveLocally`), else one call at a time (`resume`), asking the expectation's owner.
extension FlowPipeline {
    /// Starts a window's phase 1: every packet parked in the last window has been resolved.
    func beginWindow() {
        precondition(nextParked == parked.count, "FlowPipeline: parked packets left unresolved")
        parked.removeAll(keepingCapacity: true)
        parkedTuples.removeAll(keepingCapacity: true)
        nextParked = 0
    }

    /// Phase 1: the verdict of a packet whose ct calls all find live connections (or, with
    /// `commitLocally`, where no expectation can be met, commit without one), or nil when it is
    /// parked. `tuple` is the dispatch hash of the connection the packet belongs to (for an ICMP
    /// error, the quoted one): once a packet of a tuple has parked, every later packet of it in
    /// the window parks whole, so that none touches one of the tuple's connections (in any zone)
    /// before the parked one does.
    @inline(__always)
    func lookup(_ packet: ParsedPacket, key: MatchKey, untracked: InvalidReason?, frame: UnsafeRawBufferPointer,
                index: Int, time: UInt64, hash: UInt64, commitLocally: Bool, tuple: @autoclosure () -> UInt64,
                emit: (Expectation) -> Void) -> PacketVerdict? {
        if !parkedTuples.isEmpty && untracked == nil && parkedTuples.contains(tuple()) {
            parked.append(ParkedFlowPacket(index: index, run: FlowRun()))
            return nil
        }
        var run = FlowRun()
        swap(&run.known, &scratch)
        defer {
            run.known.removeAll(keepingCapacity: true)
            swap(&run.known, &scratch)
        }
        let result = classify(packet, key: key, untracked: untracked, frame: frame, index: index, time: time, hash: hash,
                              run: &run, recording: true, emit: emit) { key, hash, action in
            guard commitLocally else { return nil }
            return partition.commitNew(packet, key: key, hash: hash, packetIndex: UInt64(index), time: time,
                                       action: action, expected: nil)
        }
        guard let abortedAt = run.abortedAt else { return finish(result, run.state) }
        var kept = FlowRun(state: run.state, known: Array(run.known.prefix(abortedAt)))
        kept.state.last = nil
        parked.append(ParkedFlowPacket(index: index, run: kept))
        parkedTuples.append(tuple())
        return nil
    }

    /// Whether a packet could make an ALG announce an expectation: it has TCP or UDP payload
    /// and its connection could have been committed with an ALG (`FlowPolicy.mayHaveALG`).
    @inline(__always)
    func mayAnnounce(_ packet: ParsedPacket) -> Bool {
        core.algsEnabled && packet.payloadLength > 0
            && (packet.key.proto == IPProtocol.tcp || packet.key.proto == IPProtocol.udp) && policy.mayHaveALG(packet)
    }

    /// The parked packet `index` (packets are resolved in index order, as they were parked).
    func takeParked(_ index: Int) -> ParkedFlowPacket {
        precondition(nextParked < parked.count && parked[nextParked].index == index,
                     "FlowPipeline: packet \(index) resolved out of order")
        nextParked += 1
        return parked[nextParked - 1]
    }

    /// Phase 2a: finishes a parked packet when no expectation can be involved.
    func resolveLocally(_ packet: ParsedPacket, key: MatchKey, frame: UnsafeRawBufferPointer, index: Int,
                        time: UInt64) -> PacketVerdict {
        var run = takeParked(index).run
        let result = classify(packet, key: key, untracked: nil, frame: frame, index: index, time: time, hash: nil,
                              run: &run, recording: false,
                              emit: { _ in preconditionFailure("resolveLocally: a packet announced an expectation") }) {
            key, hash, action in
            partition.commitNew(packet, key: key, hash: hash, packetIndex: UInt64(index), time: time, action: action,
                                expected: nil)
        }
        return finish(result, run.state)
    }

    /// What `resume` got to.
    enum Resolution {
        case finished(PacketVerdict)
        /// A call missed in a zone with no answer yet: ask the owner of `key`'s expectation,
        /// set `parked.answer`, and resume.
        case needsExpectation(FlowKey)
    }

    /// Phase 2b: reruns a parked packet as far as it can go with the answers it has. Calls it
    /// makes are recorded in `parked`, so each resumption replays them; announcements go to
    /// `emit`, commits that used an expectation to `parked.consumed`.
    func resume(_ parked: inout ParkedFlowPacket, _ packet: ParsedPacket, key: MatchKey, frame: UnsafeRawBufferPointer,
                time: UInt64, emit: (Expectation) -> Void) -> Resolution {
        let index = parked.index
        var needed: FlowKey?
        var answer = parked.answer
        var consumed: [FlowKey] = []
        let result = classify(packet, key: key, untracked: nil, frame: frame, index: index, time: time, hash: nil,
                              run: &parked.run, recording: true, emit: emit) { key, hash, action in
            guard let known = answer, known.zone == key.zone else {
                needed = key
                return nil
            }
            let verdict = partition.commitNew(packet, key: key, hash: hash, packetIndex: UInt64(index), time: time,
                                              action: action, expected: known.expected)
            if verdict.consumedExpectation {
                consumed.append(key)
                answer = nil  // used up: a later miss must ask again
            }
            return verdict
        }
        parked.answer = answer
        parked.consumed += consumed
        if let needed, parked.run.abortedAt != nil { return .needsExpectation(needed) }
        return .finished(finish(result, parked.run.state))
    }
}
