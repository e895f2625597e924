import ApplicationGateways
import Conntrack
import PacketParsing

/// The default pipeline (no flow table) over one conntrack partition and its ALG helpers, in
/// trace order: every IPv4/IPv6 packet goes through ct in zone 0; a valid new connection is
/// committed, with alg=ftp when its server port is 21 and alg=tftp for UDP port 69; new,
/// established and related packets are forwarded, +inv ones dropped. Non-IP frames never go
/// through ct and are forwarded; frames malformed below IP are dropped.
///
/// This is the single-partition reference: the sharded datapath must give the same verdicts.
public final class DefaultPipeline {
    public let partition: ConntrackPartition
    public let algs: ALGEngine
    /// False: connections are committed without ALGs (OVS "helpers off").
    public let algsEnabled: Bool
    public private(set) var counters = PipelineCounters()

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

    /// Runs one frame through parse, conntrack and the ALGs.
    public func process(_ frame: UnsafeRawBufferPointer, wireLength: Int, linkType: LinkType,
                        index: Int, time: UInt64) -> PacketVerdict {
        counters.packets &+= 1
        counters.bytes &+= UInt64(wireLength)
        var packet = ParsedPacket()
        let outcome = PacketParser(linkType: linkType).parse(frame, wireLength: wireLength, into: &packet)
        counters.parseOutcomes[Int(outcome.rawValue)] &+= 1
        switch outcome {
        case .ok:
            break
        case .arp, .unsupportedEtherType, .unsupportedLinkType:
            counters.forwarded &+= 1
            return PacketVerdict()
        case .truncatedLinkHeader, .truncatedVLANTag, .tooManyVLANTags:
            counters.dropped &+= 1
            return PacketVerdict()
        default:
            // Malformed at IP or above: conntrack sees it and answers +trk+inv.
            counters.dropped &+= 1
            return PacketVerdict(partition.recordMalformed(zone: 0))
        }
        let action = CTAction(zone: 0, commit: true, alg: algsEnabled ? DefaultPipeline.alg(for: packet.key) : .none)
        var verdict = partition.process(packet, frame: frame, hash: partition.hash(packet.key),
                                        packetIndex: UInt64(index), time: time, action: action)
        if verdict.alg != .none && !verdict.state.contains(.invalid) {
            runALG(packet, frame: frame, verdict: &verdict, index: index, time: time)
        }
        drainClosedALGConnections(time: time)
        partition.expectations.expire(time: time)
        if verdict.state.contains(.invalid) || verdict.refusedByLimit {
            counters.dropped &+= 1
        } else {
            counters.forwarded &+= 1
        }
        return PacketVerdict(verdict)
    }

    private func runALG(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, verdict: inout CTVerdict,
                        index: Int, time: UInt64) {
        let master = partition.connection(at: verdict.entry)
        let expectations = partition.expectations
        let refused = algs.inspect(packet, frame: frame, master: master, isReply: verdict.state.contains(.reply),
                                   packetIndex: UInt64(index), time: time) { expectation in
            expectations.create(expectation, time: time)
        }
        if refused { partition.markRefusedByALG(&verdict) }
    }

    /// A master that went away takes its ALG stream state and its expectations with it.
    private func drainClosedALGConnections(time: UInt64) {
        guard !partition.closedALGConnections.isEmpty else { return }
        for dead in partition.closedALGConnections {
            algs.connectionClosed(id: dead.id)
            partition.expectations.removeAll(ofMaster: dead.id)
        }
        partition.closedALGConnections.removeAll(keepingCapacity: true)
        partition.forgetDeadMasters(before: time)
    }
}
