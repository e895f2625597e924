/// ICMP and ICMPv6 vectors: echo keys, errors and the packets they quote (`parseEmbedded`).
/// Hand-built per RFC 792 (ICMP) and RFC 4443 (ICMPv6).
import Testing
import PacketParsing

@Suite struct ICMPTests {
    /// Echo request 10.0.0.1 > 10.0.0.2, id 0x1234, seq 1, 8 bytes of data.
    static let echoRequest = H.eth4 + "4500 0024 0006 0000 4001 0000 " + H.addrA + H.addrB
        + "0800 0000 1234 0001 0102030405060708"
    /// The matching echo reply 10.0.0.2 > 10.0.0.1.
    static let echoReply = H.eth4 + "4500 0024 0007 0000 4001 0000 " + H.addrB + H.addrA
        + "0000 0000 1234 0001 0102030405060708"

    @Test func echoRequestAndReply() {
        let (o1, request) = parse(Self.echoRequest)
        let (o2, reply) = parse(Self.echoReply)
        #expect(o1 == .ok && o2 == .ok)
        #expect(request.key == FlowKey(src: A, dst: B, srcPort: 0x1234, dstPort: 0x1234, proto: 1, family: .ipv4))
        #expect(reply.key == request.key.reversed)
        #expect(request.icmpType == 8 && reply.icmpType == 0 && request.icmpCode == 0)
        #expect(request.l4Offset == 34 && request.payloadOffset == 42 && request.payloadLength == 8)
        #expect(request.icmpInnerOffset == 0)
    }

    /// Port unreachable (3/3) from 10.0.0.2 quoting the UDP datagram 10.0.0.1:5353 > 10.0.0.2:53
    /// (IP header + 8 bytes; its total length 48 is more than was quoted, by design).
    static let unreachableUDP = H.eth4 + "4500 0038 0008 0000 4001 0000 " + H.addrB + H.addrA
        + "0303 0000 00000000"
        + "4500 0030 0002 0000 4011 0000 " + H.addrA + H.addrB + "14e9 0035 001c 0000"

    @Test func errorQuotingUDP() {
        let (outcome, p) = parse(Self.unreachableUDP)
        #expect(outcome == .ok)
        #expect(p.key == FlowKey(src: B, dst: A, srcPort: 0, dstPort: 0, proto: 1, family: .ipv4))
        #expect(p.icmpType == 3 && p.icmpCode == 3)
        #expect(p.icmpInnerOffset == 42)
        let inner = embedded(Self.unreachableUDP, at: Int(p.icmpInnerOffset))
        #expect(inner == FlowKey(src: A, dst: B, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv4))
        #expect(inner == parse(H.eth4 + H.ip4udp).1.key)
    }

    /// Time exceeded (11/0) from a router 10.0.0.254 quoting a TCP segment's first 8 bytes.
    static let timeExceededTCP = H.eth4 + "4500 0038 0009 0000 4001 0000 0a0000fe " + H.addrA
        + "0b00 0000 00000000"
        + "4500 003c 0001 4000 0106 0000 " + H.addrA + H.addrB + "c000 0050 01020304"

    @Test func errorQuotingTCP() {
        let (outcome, p) = parse(Self.timeExceededTCP)
        #expect(outcome == .ok)
        #expect(p.icmpType == 11 && p.icmpInnerOffset == 42 && p.key.srcPort == 0)
        let inner = embedded(Self.timeExceededTCP, at: Int(p.icmpInnerOffset))
        #expect(inner == FlowKey(src: A, dst: B, srcPort: 49152, dstPort: 80, proto: 6, family: .ipv4))
        #expect(inner == parse(H.eth4 + H.ip4tcp).1.key)
    }

    /// An error quoting an echo request: the quoted key uses the echo identifier.
    @Test func errorQuotingEcho() {
        let frame = H.eth4 + "4500 0038 000a 0000 4001 0000 " + H.addrB + H.addrA
            + "0301 0000 00000000"
            + "4500 0024 0006 0000 4001 0000 " + H.addrA + H.addrB + "0800 0000 1234 0001"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok && p.icmpInnerOffset == 42)
        #expect(embedded(frame, at: 42) == parse(Self.echoRequest).1.key)
    }

    /// An error quoting less than an IP header: no inner offset, still ok.
    @Test func errorTooShortToQuote() {
        let frame = H.eth4 + "4500 0028 000b 0000 4001 0000 " + H.addrB + H.addrA
            + "0303 0000 00000000" + "4500 0030 0002 0000 4011 0000"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok && p.icmpType == 3 && p.icmpInnerOffset == 0)
        #expect(p.payloadOffset == 42 && p.payloadLength == 12)
    }

    /// Other ICMP types (timestamp request, 13): 4-byte header, ports 0.
    @Test func otherICMPType() {
        let frame = H.eth4 + "4500 0028 000c 0000 4001 0000 " + H.addrA + H.addrB
            + "0d00 0000 1234 0001 00000000 00000000 00000000"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok && p.icmpType == 13 && p.key.srcPort == 0 && p.key.dstPort == 0)
        #expect(p.payloadOffset == 38 && p.icmpInnerOffset == 0)
    }

    /// ICMPv6 echo request 2001:db8::1 > ::2 (id 0xabcd) and its reply: reversed keys.
    @Test func icmpv6Echo() {
        let request = H.eth6 + H.ip6(next: "3a", payloadLength: "0010") + "8000 0000 abcd 0001 0102030405060708"
        let reply = H.eth6 + H.ip6(next: "3a", payloadLength: "0010", src: H.addrB6, dst: H.addrA6)
            + "8100 0000 abcd 0001 0102030405060708"
        let (o1, p1) = parse(request)
        let (o2, p2) = parse(reply)
        #expect(o1 == .ok && o2 == .ok)
        #expect(p1.key == FlowKey(src: A6, dst: B6, srcPort: 0xabcd, dstPort: 0xabcd, proto: 58, family: .ipv6))
        #expect(p2.key == p1.key.reversed)
        #expect(p1.icmpType == 128 && p2.icmpType == 129)
        #expect(p1.payloadOffset == 62 && p1.payloadLength == 8)
    }

    /// ICMPv6 destination unreachable (1/4, port unreachable) quoting the IPv6 UDP datagram.
    static let icmpv6Unreachable = H.eth6 + H.ip6(next: "3a", payloadLength: "0038", src: H.addrB6, dst: H.addrA6)
        + "0104 0000 00000000"
        + H.ip6(next: "11", payloadLength: "000c") + "14e9 0035 000c 0000"

    @Test func icmpv6ErrorQuotingUDP() {
        let (outcome, p) = parse(Self.icmpv6Unreachable)
        #expect(outcome == .ok)
        #expect(p.key == FlowKey(src: B6, dst: A6, srcPort: 0, dstPort: 0, proto: 58, family: .ipv6))
        #expect(p.icmpType == 1 && p.icmpCode == 4 && p.icmpInnerOffset == 62)
        let inner = embedded(Self.icmpv6Unreachable, at: 62)
        #expect(inner == FlowKey(src: A6, dst: B6, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv6))
        #expect(inner == parse(H.eth6 + H.ip6udp).1.key)
    }

    /// An ICMPv6 error quoting 30 bytes: enough for an IPv4 header, not for IPv6's 40.
    @Test func icmpv6ErrorTooShortToQuote() {
        let frame = H.eth6 + H.ip6(next: "3a", payloadLength: "0026", src: H.addrB6, dst: H.addrA6)
            + "0104 0000 00000000" + "6000 0000 000c 1140" + H.addrA6 + "20010db8000000"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok && p.icmpType == 1 && p.icmpInnerOffset == 0)
        #expect(p.payloadOffset == 62 && p.payloadLength == 30)
    }

    /// ICMPv6 packet too big (2) quoting a TCP segment behind a destination-options header.
    @Test func icmpv6ErrorQuotingTCPWithExtensionHeader() {
        let frame = H.eth6 + H.ip6(next: "3a", payloadLength: "0040", src: H.addrB6, dst: H.addrA6)
            + "0200 0000 00000500"
            + H.ip6(next: "3c", payloadLength: "001c") + "0600 0104 00000000" + "c000 0050 01020304"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok && p.icmpType == 2 && p.icmpInnerOffset == 62)
        #expect(embedded(frame, at: 62) == FlowKey(src: A6, dst: B6, srcPort: 49152, dstPort: 80, proto: 6, family: .ipv6))
    }

    /// parseEmbedded says nil when it cannot read the quoted packet.
    @Test func embeddedNilCases() {
        let frame = Self.unreachableUDP
        #expect(embedded(frame, at: -1) == nil)
        #expect(embedded(frame, at: bytes(frame).count) == nil)
        #expect(embedded(frame, at: 43) == nil)                       // not an IP version nibble
        // Quoted IPv4 header cut (12 of 20 bytes).
        let cut = H.eth4 + "4500 0028 000b 0000 4001 0000 " + H.addrB + H.addrA
            + "0303 0000 00000000" + "4500 0030 0002 0000 4011 0000"
        #expect(embedded(cut, at: 42) == nil)
        // Quoted UDP header cut before the ports.
        let short = H.eth4 + "4500 0031 0008 0000 4001 0000 " + H.addrB + H.addrA + "0303 0000 00000000"
            + "4500 0030 0002 0000 4011 0000 " + H.addrA + H.addrB + "14"
        #expect(embedded(short, at: 42) == nil)
        // Quoted IPv6 header cut.
        let cut6 = H.eth6 + H.ip6(next: "3a", payloadLength: "0010", src: H.addrB6, dst: H.addrA6)
            + "0104 0000 00000000" + "6000 0000 000c 1140"
        #expect(embedded(cut6, at: 62) == nil)
        // Quoted IPv4 later fragment: no ports needed.
        let later = H.eth4 + "4500 0030 0008 0000 4001 0000 " + H.addrB + H.addrA + "0303 0000 00000000"
            + "4500 0030 0002 00b9 4011 0000 " + H.addrA + H.addrB
        #expect(embedded(later, at: 42) == FlowKey(src: A, dst: B, srcPort: 0, dstPort: 0, proto: 17, family: .ipv4))
    }
}
