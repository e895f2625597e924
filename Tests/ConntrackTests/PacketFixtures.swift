import PacketParsing
@testable import Conntrack

/// Parsed packets built field by field, for partition tests that need no bytes.
enum Fixture {
    static let client = IPAddress(v4: 0x0A01_0101)  // 10.1.1.1
    static let server = IPAddress(v4: 0x0A01_0102)  // 10.1.1.2
    static let client6 = IPAddress(high: 0x2001_0db8_0000_0000, low: 1)
    static let server6 = IPAddress(high: 0x2001_0db8_0000_0000, low: 2)

    static func udp(_ src: IPAddress = client, _ dst: IPAddress = server, sport: UInt16 = 40000, dport: UInt16 = 53,
                    family: AddressFamily = .ipv4) -> ParsedPacket {
        var p = ParsedPacket()
        p.key = FlowKey(src: src, dst: dst, srcPort: sport, dstPort: dport, proto: IPProtocol.udp, family: family)
        return p
    }

    static func icmpEcho(_ src: IPAddress = client, _ dst: IPAddress = server, id: UInt16 = 7, request: Bool,
                         family: AddressFamily = .ipv4) -> ParsedPacket {
        var p = ParsedPacket()
        let proto = family == .ipv4 ? IPProtocol.icmp : IPProtocol.icmpv6
        p.key = FlowKey(src: src, dst: dst, srcPort: id, dstPort: id, proto: proto, family: family)
        p.icmpType = family == .ipv4 ? (request ? 8 : 0) : (request ? 128 : 129)
        return p
    }

    static func other(_ src: IPAddress = client, _ dst: IPAddress = server, proto: UInt8 = 47) -> ParsedPacket {
        var p = ParsedPacket()
        p.key = FlowKey(src: src, dst: dst, srcPort: 0, dstPort: 0, proto: proto, family: .ipv4)
        return p
    }

    static func reply(_ p: ParsedPacket) -> ParsedPacket {
        var r = p
        r.key = p.key.reversed
        return r
    }

    static let second: UInt64 = 1_000_000_000
    static let commit = CTAction(commit: true)
    static let lookup = CTAction()
}
