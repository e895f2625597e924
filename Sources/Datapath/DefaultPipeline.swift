import ApplicationGateways
import Conntrack
import PacketParsing

/// The default pipeline (no flow table) over one conntrack partition and its ALG helpers:
/// every IPv4/IPv6 packet goes through ct in zone 0; a valid new connection is committed, with
/// alg=ftp when its server port is 21 and alg=tftp for UDP port 69; new, established and
/// related packets are forwarded, +inv ones dropped. Non-IP frames never go through ct and are
/// forwarded; frames malformed below IP are dropped.
///
/// `process` runs a packet start to finish against this partition's own expectations: the
/// single-partition reference. A shard of the sharded datapath runs the same steps (`ingress`,
/// `lookup`, `commit`, `finish`) with its expectations owned elsewhere.
public final class DefaultPipeline {
    public let partition: ConntrackPartition
    public let algs: ALGEngine
    /// False: connections are committed without ALGs (OVS "helpers off").
    public let algsEnabled: Bool
    /// Packets, bytes, fates and parse outcomes so far.
    public var counters: PipelineCounters {
        var counters = tallies
        counters.parseOutcomes = parseOutcomeCounts.values
        return counters
    }
    /// The scalar counters (its `parseOutcomes` is unused: see `parseOutcomeCounts`).
    @usableFromInline var tallies = PipelineCounters()
    @usableFromInline let parseOutcomeCounts = CounterArray(count: ParseOutcome.allCases.count)
    /// Packets parsed ahead of their turn by `forEachStaged`.
    @usableFromInline var lookAhead = LookAhead()

    /// Packets its walks took through the look-ahead's ring (parsed ahead, prefetched) and
    /// directly (parsed at their turn).
    public var lookAheadPackets: (ring: UInt64, direct: UInt64) { (lookAhead.ringPackets, lookAhead.directPackets) }

    public init(config: ConntrackConfig = ConntrackConfig(),
                expectationLimits: ExpectationTable.Limits = .init(),
                algPolicy: ALGEngine.Policy = .init(), algsEnabled: Bool = true) {
        partition = ConntrackPartition(config: config, expectationLimits: expectationLimits)
        algs = ALGEngine(policy: algPolicy)
        self.algsEnabled = algsEnabled
    }

    /// The ALG the default pipeline commits a new connection with, from its first packet.
    @inlinable
    public static func alg(for key: FlowKey) -> ALGKind {
        if key.proto == IPProtocol.tcp && key.dstPort == 21 { return .ftp }
        if key.proto == IPProtocol.udp && key.dstPort == 69 { return .tftp }
        return .none
    }

    /// Runs one frame through parse, conntrack and the ALGs, against this partition's own
    /// expectation table.
    public func process(_ frame: UnsafeRawBufferPointer, wireLength: Int, linkType: LinkType,
                        index: Int, time: UInt64) -> PacketVerdict {
        var packet = ParsedPacket()
        if let done = ingress(frame, wireLength: wireLength, linkType: linkType, into: &packet) { return done }
        return finishAlone(packet, frame: frame, index: index, time: time)
    }

    /// The same for a frame parsed ahead (`forEachStaged`): `outcome` is its parse outcome,
    /// `hash` its flow hash in zone 0. Inlinable, so that a replay loop in another module runs
    /// the TCP lane (`ConntrackPartition.trackTCPSegment`) without a call into
    /// the whole pipeline; every other packet takes `processGeneral`.
    /// `packet` is read in place (valid during the call); `entryGuess` is the look-ahead's
    /// guess of its entry, or -1 (`ConntrackPartition.trackTCPSegment`).
    @inlinable @inline(__always)
    public func process(_ packet: UnsafePointer<ParsedPacket>, outcome: ParseOutcome, hash: UInt64,
                        frame: UnsafeRawBufferPointer, wireLength: Int, index: Int, time: UInt64,
                        entryGuess: Int = -1) -> PacketVerdict {
        guard outcome == .ok else {
            return processGeneral(packet.pointee, outcome: outcome, hash: hash, frame: frame, wireLength: wireLength,
                                  index: index, time: time, lanePrechecked: nil)
        }
        let lane = tcpLane(packet, frame: frame, hash: hash, time: time, entryGuess: entryGuess)
        guard let verdict = lane.verdict ?? (lane.missed ? newConnectionLane(packet, hash: hash, index: index, time: time)
                                                         : nil)
        else {
            return processGeneral(packet.pointee, outcome: outcome, hash: hash, frame: frame, wireLength: wireLength,
                                  index: index, time: time, lanePrechecked: lane.prechecked, laneMissed: lane.missed)
        }
        countParsed(outcome, wireLength: wireLength)
        afterPacketAlone(time: time)
        return verdict
    }

    /// A TCP segment the lane found no connection for, committed at once where the general
    /// steps would commit it with nothing more: no expectation in this partition's table to
    /// match (`commitMissedSegment` does the rest). Nil: the general steps take it
    /// (`finishAlone`, the missed look-up skipped).
    @usableFromInline
    func newConnectionLane(_ packet: UnsafePointer<ParsedPacket>, hash: UInt64, index: Int, time: UInt64) -> PacketVerdict? {
        guard partition.expectations.isEmpty else { return nil }
        return commitMissedSegment(packet, hash: hash, index: index, time: time)
    }

    /// `commit` in one step (`ConntrackPartition.commitFirstSegment`), counted, for a TCP segment
    /// the lane found no connection for (`TCPLaneStep.missed`) and that no expectation can
    /// match (the caller knows), when its connection takes no ALG. Nil, with nothing changed,
    /// where `commit` has more to do.
    func commitMissedSegment(_ packet: UnsafePointer<ParsedPacket>, hash: UInt64, index: Int,
                             time: UInt64) -> PacketVerdict? {
        guard action(for: packet.pointee).alg == .none,
              let step = partition.commitFirstSegment(packet, hash: hash, packetIndex: UInt64(index), time: time)
        else { return nil }
        partition.count(state: step.state)
        tallies.forwarded &+= 1
        return PacketVerdict(state: step.state, zone: packet.pointee.key.zone, connectionID: step.connectionID,
                             masterID: step.masterID)
    }

    /// `process` for a packet the TCP lane did not finish (`lanePrechecked`: whether
    /// the lane ran the precheck, nil when the lane was not tried; `laneMissed`: the lane found
    /// no entry for the key).
    @usableFromInline @inline(never)
    func processGeneral(_ packet: ParsedPacket, outcome: ParseOutcome, hash: UInt64, frame: UnsafeRawBufferPointer,
                        wireLength: Int, index: Int, time: UInt64, lanePrechecked: Bool?,
                        laneMissed: Bool = false) -> PacketVerdict {
        if let done = admit(outcome, wireLength: wireLength) { return done }
        return finishAlone(packet, frame: frame, index: index, time: time, hash: hash, lanePrechecked: lanePrechecked,
                           laneMissed: laneMissed)
    }

    /// Conntrack and ALGs for a parsed IP packet, against this partition's own expectations.
    /// `lanePrechecked`: nil when the TCP lane has not seen the packet (`lookup` tries
    /// it); otherwise whether the lane, which left the packet, ran the precheck. `laneMissed`:
    /// the lane found no entry for the key (`TCPLaneStep.missed`), so the look-up is skipped.
    @inline(__always)
    public func finishAlone(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, index: Int, time: UInt64,
                            hash: UInt64? = nil, lanePrechecked: Bool? = nil, laneMissed: Bool = false) -> PacketVerdict {
        // The closures name `self`, not a local copy of the expectation table: capturing the
        // table would retain and release it on every packet; `self` is already guaranteed.
        // (Closures written out at each call, not kept in a local: a stored closure that
        // captures is allocated on the heap, on every packet.)
        let found: PacketVerdict? = if laneMissed {
            nil
        } else if let lanePrechecked {
            lookupGeneral(packet, frame: frame, index: index, time: time, hash: hash ?? partition.hash(packet.key),
                          prechecked: lanePrechecked) { self.partition.expectations.create($0, time: time) }
        } else {
            lookup(packet, frame: frame, index: index, time: time, hash: hash) {
                self.partition.expectations.create($0, time: time)
            }
        }
        let verdict = found ?? commit(packet, frame: frame, index: index, time: time, hash: hash,
                    expected: partition.localExpectation(for: packet.key, time: time),
                    consume: { key in _ = self.partition.expectations.consume(key, time: time) },
                    emit: { self.partition.expectations.create($0, time: time) })
        afterPacketAlone(time: time)
        return verdict
    }

    /// The per-packet housekeeping of a partition that runs alone: ALG state and expectations
    /// of closed masters, expired expectations.
    @inlinable @inline(__always)
    func afterPacketAlone(time: UInt64) {
        if partition.hasClosedALGConnections { forgetClosedALGConnectionsAlone(time: time) }
        partition.expectations.expire(time: time)
    }

    @usableFromInline
    func forgetClosedALGConnectionsAlone(time: UInt64) {
        forgetClosedALGConnections(time: time) { dead in self.partition.expectations.removeAll(ofMaster: dead.id) }
    }

    // MARK: - Steps

    /// Parses a frame. Returns the final verdict for frames conntrack never sees or cannot
    /// parse; nil for an IP packet (in `packet`, zone 0) that goes on to `lookup`.
    @inline(__always)
    public func ingress(_ frame: UnsafeRawBufferPointer, wireLength: Int, linkType: LinkType,
                        into packet: inout ParsedPacket) -> PacketVerdict? {
        let outcome = PacketParser(linkType: linkType).parse(frame, wireLength: wireLength, into: &packet)
        return admit(outcome, wireLength: wireLength)
    }

    /// Counts a parsed frame and gives the final verdict of a frame that does not go on to
    /// conntrack (see `ingress`), or nil.
    @inline(__always)
    public func admit(_ outcome: ParseOutcome, wireLength: Int) -> PacketVerdict? {
        countParsed(outcome, wireLength: wireLength)
        switch outcome {
        case .ok:
            return nil
        case .arp, .unsupportedEtherType, .unsupportedLinkType:
            tallies.forwarded &+= 1
            return PacketVerdict()
        case .truncatedLinkHeader, .truncatedVLANTag, .tooManyVLANTags:
            tallies.dropped &+= 1
            return PacketVerdict()
        default:
            // Malformed at IP or above: conntrack sees it and answers +trk+inv.
            let verdict = CTVerdict.invalid(.malformedHeader, zone: 0)
            partition.count(verdict)
            tallies.dropped &+= 1
            return PacketVerdict(verdict)
        }
    }

    /// Counts a parsed frame: packets, bytes, its parse outcome.
    @inlinable @inline(__always)
    func countParsed(_ outcome: ParseOutcome, wireLength: Int) {
        tallies.packets &+= 1
        tallies.bytes &+= UInt64(wireLength)
        parseOutcomeCounts.increment(Int(outcome.rawValue))
    }

    /// Whether this packet could make an ALG announce an expectation: it has payload and its
    /// connection (in either direction) would be committed with an ALG. Without state, so the
    /// sharded datapath can ask it of a packet it has not finished yet.
    @inline(__always)
    public func mayAnnounce(_ packet: ParsedPacket) -> Bool {
        algsEnabled && packet.payloadLength > 0
            && (DefaultPipeline.alg(for: packet.key) != .none || DefaultPipeline.alg(for: packet.key.reversed) != .none)
    }

    /// The action of the default pipeline for a parsed packet.
    @inline(__always)
    func action(for packet: ParsedPacket) -> CTAction {
        CTAction(zone: 0, commit: true, alg: algsEnabled ? DefaultPipeline.alg(for: packet.key) : .none)
    }

    /// The action of the default pipeline as the look-up of an existing connection reads it:
    /// zone 0, commit (no mark or label to set). The ALG matters only to a new connection's
    /// commit (`action(for:)`), so the look-up does not work it out.
    @inline(__always)
    static var lookupAction: CTAction { CTAction(zone: 0, commit: true) }

    /// Prechecks and the existing-connection step (with the ALG on its packet, expectations to
    /// `emit`). Nil: a miss, to be finished by `commit` (which must not run `precheck` again:
    /// `retry` says the packet has been prechecked before).
    @inline(__always)
    public func lookup(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, index: Int, time: UInt64,
                       retry: Bool = false, hash: UInt64? = nil, emit: (Expectation) -> Void) -> PacketVerdict? {
        let hash = hash ?? partition.hash(packet.key)
        guard !retry else {
            return lookupGeneral(packet, frame: frame, index: index, time: time, hash: hash, prechecked: true,
                                 emit: emit)
        }
        let lane = withUnsafePointer(to: packet) { tcpLane($0, frame: frame, hash: hash, time: time) }
        if let verdict = lane.verdict { return verdict }
        if lane.missed { return nil }
        return lookupGeneral(packet, frame: frame, index: index, time: time, hash: hash, prechecked: lane.prechecked,
                             emit: emit)
    }

    /// `lookup` without the TCP lane: the general precheck (unless `prechecked`) and
    /// look-up.
    func lookupGeneral(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, index: Int, time: UInt64, hash: UInt64,
                       prechecked: Bool, emit: (Expectation) -> Void) -> PacketVerdict? {
        guard let verdict = partition.precheckAndLookup(packet, key: packet.key, frame: frame, hash: hash, time: time,
                                                        action: DefaultPipeline.lookupAction, prechecked: prechecked)
        else { return nil }
        return finish(verdict, packet, frame: frame, index: index, time: time, emit: emit)
    }

    /// What the TCP lane did with a packet: its verdict, counted, when the lane finished it;
    /// otherwise, for the general steps, whether the precheck ran and whether the table holds
    /// no entry for the key (`TCPLaneStep.missed`: the look-up may be skipped).
    @usableFromInline
    struct LaneOutcome {
        @usableFromInline var verdict: PacketVerdict?
        @usableFromInline var prechecked: Bool
        @usableFromInline var missed: Bool

        @inlinable
        init(verdict: PacketVerdict?, prechecked: Bool, missed: Bool = false) {
            self.verdict = verdict
            self.prechecked = prechecked
            self.missed = missed
        }
    }

    /// The TCP lane (`ConntrackPartition.trackTCPSegment`) for a parsed packet.
    @inlinable @inline(__always)
    func tcpLane(_ packet: UnsafePointer<ParsedPacket>, frame: UnsafeRawBufferPointer, hash: UInt64,
                 time: UInt64, entryGuess: Int = -1) -> LaneOutcome {
        let step = entryGuess < 0 ? partition.trackTCPSegment(packet, frame: frame, hash: hash, time: time)
                                  : partition.trackTCPSegment(packet, frame: frame, hash: hash, time: time,
                                                              entryGuess: entryGuess)
        guard !step.state.isEmpty else {
            return LaneOutcome(verdict: nil, prechecked: step.prechecked, missed: step.missed)
        }
        partition.count(state: step.state)
        if step.state.contains(.invalid) { tallies.dropped &+= 1 } else { tallies.forwarded &+= 1 }
        return LaneOutcome(verdict: PacketVerdict(state: step.state, zone: packet.pointee.key.zone,
                                                  connectionID: step.connectionID, masterID: step.masterID),
                           prechecked: true)
    }

    /// The new-connection step, given the expectation its owner found (already checked for a
    /// live master); `consume` tells the owner when the commit used it. `hash`: the key's flow
    /// hash in zone 0, when the caller has it.
    public func commit(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, index: Int, time: UInt64,
                       hash: UInt64? = nil, expected: Expectation?, consume: (FlowKey) -> Void,
                       emit: (Expectation) -> Void) -> PacketVerdict {
        let action = action(for: packet)
        let verdict = partition.commitNew(packet, key: packet.key, hash: hash ?? partition.hash(packet.key),
                                          packetIndex: UInt64(index), time: time, action: action, expected: expected)
        if verdict.consumedExpectation { consume(packet.key) }
        return finish(verdict, packet, frame: frame, index: index, time: time, emit: emit)
    }

    /// ALG, counters and fate of a conntrack verdict.
    @inline(__always)
    func finish(_ ctVerdict: CTVerdict, _ packet: ParsedPacket, frame: UnsafeRawBufferPointer, index: Int,
                time: UInt64, emit: (Expectation) -> Void) -> PacketVerdict {
        var verdict = ctVerdict
        inspectALG(&verdict, packet, frame: frame, index: index, time: time, emit: emit)
        partition.count(verdict)
        if verdict.state.contains(.invalid) || verdict.refusedByLimit {
            tallies.dropped &+= 1
        } else {
            tallies.forwarded &+= 1
        }
        return PacketVerdict(verdict)
    }

    /// The ALG's look at a packet of a connection committed with one (valid verdicts only):
    /// expectations it announces go to `emit`; what it refuses turns the verdict +inv.
    @inline(__always)
    func inspectALG(_ verdict: inout CTVerdict, _ packet: ParsedPacket, frame: UnsafeRawBufferPointer, index: Int,
                    time: UInt64, emit: (Expectation) -> Void) {
        guard verdict.alg != .none && !verdict.state.contains(.invalid) else { return }
        let master = partition.connection(at: verdict.entry)
        if algs.inspect(packet, frame: frame, master: master, isReply: verdict.state.contains(.reply),
                        packetIndex: UInt64(index), time: time, emit: emit) {
            partition.markRefusedByALG(&verdict)
        }
    }

    /// A master that went away takes its ALG stream state with it; `dropExpectations` removes
    /// its expectations wherever they are owned.
    public func forgetClosedALGConnections(time: UInt64, dropExpectations: (DeadMaster) -> Void) {
        guard partition.hasClosedALGConnections else { return }
        partition.drainClosedALGConnections { dead in
            algs.connectionClosed(id: dead.id)
            dropExpectations(dead)
        }
        partition.forgetDeadMasters(before: time)
    }
}
