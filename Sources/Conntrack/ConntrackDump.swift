import PacketParsing

/// The connection table as text, in the format of `ovs-appctl dpctl/dump-conntrack`, one line
/// per connection, sorted so that two runs can be diffed. Extensions to OVS's format: `id=` (the
/// trace index of the committing packet) always, and `master=` (the master's id) on related
/// connections.
extension ConntrackPartition {
    public func dumpConnections() -> [String] {
        connections.map(ConntrackDump.line).sorted()
    }
}

enum ConntrackDump {
    static func line(_ c: Connection) -> String {
        let key = c.key
        var text = protocolName(key) + ",orig=(" + tuple(key) + "),reply=(" + tuple(key.reversed, replyOf: key) + ")"
        text += ",id=\(c.id)"
        if key.zone != 0 { text += ",zone=\(key.zone)" }
        if c.mark != 0 { text += ",mark=\(c.mark)" }
        if c.labelHigh != 0 || c.labelLow != 0 { text += ",labels=0x" + hex128(c.labelHigh, c.labelLow) }
        if key.proto == IPProtocol.tcp { text += ",protoinfo=(state=\(c.tcp.dumpStateName))" }
        if c.alg != .none { text += ",helper=\(c.alg.name)" }
        if c.masterID != Connection.noID { text += ",master=\(c.masterID)" }
        return text
    }

    static func protocolName(_ key: FlowKey) -> String {
        switch key.proto {
        case IPProtocol.tcp: "tcp"
        case IPProtocol.udp: "udp"
        case IPProtocol.icmp: "icmp"
        case IPProtocol.icmpv6: "icmpv6"
        case IPProtocol.sctp: "sctp"
        default: "\(key.proto)"
        }
    }

    /// `src=..,dst=..,sport=..,dport=..` (ICMP: `id=..,type=..,code=0`).
    static func tuple(_ key: FlowKey, replyOf original: FlowKey? = nil) -> String {
        let addresses = "src=\(key.src),dst=\(key.dst)"
        switch key.proto {
        case IPProtocol.tcp, IPProtocol.udp, IPProtocol.sctp:
            return addresses + ",sport=\(key.srcPort),dport=\(key.dstPort)"
        case IPProtocol.icmp:
            return addresses + ",id=\(key.srcPort),type=\(original == nil ? 8 : 0),code=0"
        case IPProtocol.icmpv6:
            return addresses + ",id=\(key.srcPort),type=\(original == nil ? 128 : 129),code=0"
        default:
            return addresses
        }
    }

    static func hex128(_ high: UInt64, _ low: UInt64) -> String {
        let lowText = String(low, radix: 16)
        guard high != 0 else { return lowText }
        return String(high, radix: 16) + String(repeating: "0", count: 16 - lowText.count) + lowText
    }
}
