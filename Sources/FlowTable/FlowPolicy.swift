import Conntrack
import PacketParsing

/// What `ctbench --flows` runs in every shard: the classifier built from a flow file and the
/// in_port map of the trace. Immutable and shared by every shard (read-only arrays).
public struct FlowPolicy: Sendable {
    public let classifier: Classifier
    public let inPorts: InPortMap
    /// Some `ct` action asks for an ALG: without one, no connection can have an ALG, so no
    /// packet can announce an expectation (the sharded datapath uses this to finish misses early).
    public var hasALG: Bool { !algMatches.isEmpty }
    /// The matches of the flows whose actions commit with an ALG, without their ct fields and
    /// in_port: a connection gets an ALG only from a packet that matched one of them, and every
    /// packet of it has that packet's fields or their reverse (`mayHaveALG`).
    let algMatches: [FlowMatch]

    public init(flows: [Flow], inPorts: InPortMap = InPortMap()) {
        classifier = Classifier(flows)
        self.inPorts = inPorts
        var packetFields = MatchKey()
        packetFields.src = IPAddress(high: .max, low: .max)
        packetFields.dst = IPAddress(high: .max, low: .max)
        packetFields.dlType = .max
        packetFields.nwProto = .max
        packetFields.tpSrc = .max
        packetFields.tpDst = .max
        algMatches = flows.filter { flow in
            flow.actions.contains { if case .ct(let spec) = $0 { spec.alg != .none } else { false } }
        }.map { FlowMatch(value: $0.match.value, mask: $0.match.mask & packetFields) }
    }

    /// Whether `packet`'s connection could have been committed with an ALG by this policy: its
    /// fields, or their reverse, match a flow that commits with one (ct fields and in_port
    /// aside). Conservative: false means no ALG will ever inspect this packet.
    public func mayHaveALG(_ packet: ParsedPacket) -> Bool {
        if algMatches.isEmpty { return false }
        var reversed = packet
        reversed.key = packet.key.reversed
        let forward = MatchKey(packet: packet, inPort: 0), backward = MatchKey(packet: reversed, inPort: 0)
        return algMatches.contains { $0.matches(forward) || $0.matches(backward) }
    }

    /// Parses a flow file's text (see `FlowParser`).
    public init(text: String, inPorts: InPortMap = InPortMap()) throws(FlowTableError) {
        self.init(flows: try FlowParser.parse(text), inPorts: inPorts)
    }
}
