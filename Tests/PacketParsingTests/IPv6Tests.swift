/// IPv6 vectors: plain, each extension header kind, chains, fragments, No Next Header.
/// Hand-built per RFC 8200 (and RFC 4302 for AH, RFC 6275 for the type 2 routing header).
import Testing
import PacketParsing

@Suite struct IPv6Tests {
    /// Hop-by-hop / destination options with one PadN option, next header UDP: 8 bytes.
    static let options8ToUDP = "1100 0104 00000000"
    /// Type 2 routing header (RFC 6275), next header UDP: 24 bytes.
    static let routing24ToUDP = "1102 0201 00000000 20010db8000000000000000000000003"
    /// AH with payload length 4 ((4 + 2) * 4 = 24 bytes), next header UDP.
    static let ah24ToUDP = "1104 0000 00001000 00000001 000000000000000000000000"

    @Test func plainUDP() {
        let (outcome, p) = parse(H.eth6 + H.ip6udp)
        #expect(outcome == .ok)
        #expect(p.key == FlowKey(src: A6, dst: B6, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv6))
        #expect(p.key.src.high == 0x2001_0db8_0000_0000 && p.key.src.low == 1)
        #expect(p.isIPv6 && p.etherType == 0x86dd)
        #expect(p.l3Offset == 14 && p.l3Length == 52 && p.l4Offset == 54)
        #expect(p.payloadOffset == 62 && p.payloadLength == 4)
        #expect(p.ipTTL == 64 && p.fragment == .none)
    }

    /// IPv6 / TCP: the transport fields come through as for IPv4.
    @Test func plainTCP() {
        let (outcome, p) = parse(H.eth6 + H.ip6(next: "06", payloadLength: "0019") + H.tcpAckPsh + "68656c6c6f")
        #expect(outcome == .ok)
        #expect(p.key == FlowKey(src: A6, dst: B6, srcPort: 49152, dstPort: 80, proto: 6, family: .ipv6))
        #expect(p.tcpFlags == [.ack, .psh] && p.tcpSeq == 0x0102_0304 && p.tcpWindow == 0xfaf0)
        #expect(p.payloadOffset == 74 && p.payloadLength == 5 && p.l3Length == 65)
    }

    /// Each extension header kind alone before UDP: (next header, header bytes, its length).
    @Test(arguments: [
        ("00", options8ToUDP, 8),     // hop-by-hop
        ("3c", options8ToUDP, 8),     // destination options
        ("2b", routing24ToUDP, 24),   // routing
        ("33", ah24ToUDP, 24),        // authentication header
    ])
    func singleExtensionHeader(next: String, header: String, length: Int) {
        let payloadLength = String(format4: length + 12)
        let (outcome, p) = parse(H.eth6 + H.ip6(next: next, payloadLength: payloadLength) + header + H.udp12)
        #expect(outcome == .ok)
        #expect(p.key == FlowKey(src: A6, dst: B6, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv6))
        #expect(p.l4Offset == UInt32(54 + length))
        #expect(p.payloadOffset == UInt32(62 + length) && p.payloadLength == 4)
        #expect(p.l3Length == UInt32(40 + length + 12))
        #expect(p.fragment == .none)
    }

    /// Fragment header, offset 0 and M set: the first fragment, UDP ports parsed.
    @Test func firstFragment() {
        let (outcome, p) = parse(H.eth6 + H.ip6(next: "2c", payloadLength: "0014") + "1100 0001 12345678" + H.udp12)
        #expect(outcome == .ok)
        #expect(p.fragment == .first)
        #expect(p.key.proto == 17 && p.key.srcPort == 5353 && p.key.dstPort == 53)
        #expect(p.l4Offset == 62 && p.payloadOffset == 70 && p.payloadLength == 4)
    }

    /// Fragment header, offset 32 * 8: a later fragment, ports 0, protocol from the header.
    @Test func laterFragment() {
        let (outcome, p) = parse(H.eth6 + H.ip6(next: "2c", payloadLength: "0014") + "1100 0100 12345678" + "00112233445566778899aabb")
        #expect(outcome == .ok)
        #expect(p.fragment == .later)
        #expect(p.key == FlowKey(src: A6, dst: B6, srcPort: 0, dstPort: 0, proto: 17, family: .ipv6))
        #expect(p.l4Offset == 62 && p.payloadOffset == 62 && p.payloadLength == 12)
    }

    /// A later fragment whose original next header is an extension header (destination
    /// options): the walk stops at the fragment header, the data is not read as a header.
    @Test func laterFragmentBeforeExtensionHeader() {
        let (outcome, p) = parse(H.eth6 + H.ip6(next: "2c", payloadLength: "0018") + "3c00 0100 12345678" + "1100 0104 00000000 14e9 0035 000c 0000")
        #expect(outcome == .ok && p.fragment == .later)
        #expect(p.key.proto == 60 && p.key.srcPort == 0 && p.l4Offset == 62 && p.payloadLength == 16)
    }

    /// An atomic fragment (offset 0, M clear; RFC 6946) is not a fragment for tracking.
    @Test func atomicFragment() {
        let (outcome, p) = parse(H.eth6 + H.ip6(next: "2c", payloadLength: "0014") + "1100 0000 12345678" + H.udp12)
        #expect(outcome == .ok && p.fragment == .none && p.key.dstPort == 53)
    }

    /// Hop-by-hop > destination options > routing > fragment (first) > AH > TCP.
    @Test func chainOfExtensionHeaders() {
        let chain = "3c00 0104 00000000"                                         // HBH -> DST
            + "2b00 0104 00000000"                                              // DST -> routing
            + "2c02 0201 00000000 20010db8000000000000000000000003"             // routing -> fragment
            + "3300 0001 12345678"                                              // fragment (first) -> AH
            + "0604 0000 00001000 00000001 000000000000000000000000"            // AH -> TCP
        let (outcome, p) = parse(H.eth6 + H.ip6(next: "00", payloadLength: "005c") + chain + H.tcpAckPsh)
        #expect(outcome == .ok)
        #expect(p.fragment == .first)
        #expect(p.key == FlowKey(src: A6, dst: B6, srcPort: 49152, dstPort: 80, proto: 6, family: .ipv6))
        #expect(p.l4Offset == 126 && p.payloadOffset == 146 && p.payloadLength == 0)
        #expect(p.l3Length == 132 && p.tcpAck == 0x0506_0708)
    }

    /// Eight extension headers is the most accepted; nine is too many.
    @Test func extensionHeaderLimit() {
        let dst = "3c00 0104 00000000"
        let eight = String(repeating: dst, count: 7) + Self.options8ToUDP
        let (o8, p8) = parse(H.eth6 + H.ip6(next: "3c", payloadLength: "004c") + eight + H.udp12)
        #expect(o8 == .ok && p8.l4Offset == 118 && p8.key.dstPort == 53)
        let nine = String(repeating: dst, count: 8) + Self.options8ToUDP
        let (o9, _) = parse(H.eth6 + H.ip6(next: "3c", payloadLength: "0054") + nine + H.udp12)
        #expect(o9 == .tooManyIPv6ExtensionHeaders)
    }

    /// No Next Header (59), directly and after hop-by-hop: protocol 59, no transport, and the
    /// bytes that follow are ignored.
    @Test func noNextHeader() {
        let (o1, p1) = parse(H.eth6 + H.ip6(next: "3b", payloadLength: "0000"))
        #expect(o1 == .ok && p1.key.proto == 59 && p1.l4Offset == 54 && p1.payloadLength == 0)
        #expect(p1.key.srcPort == 0 && p1.key.dstPort == 0)
        let (o2, p2) = parse(H.eth6 + H.ip6(next: "00", payloadLength: "000c") + "3b00 0104 00000000" + "deadbeef")
        #expect(o2 == .ok && p2.key.proto == 59 && p2.l4Offset == 62 && p2.payloadLength == 0)
    }

    /// Payload length beyond the capture: malformed unless snapped.
    @Test func lengthBeyondCaptureUnlessSnapped() {
        let frame = H.eth6 + H.ip6(next: "11", payloadLength: "0064") + "14e9 0035 0064 0000 deadbeef"
        #expect(parse(frame).0 == .ipv6LengthBeyondCapture)
        let (outcome, p) = parse(frame, wireLength: 154)
        #expect(outcome == .ok && p.payloadTruncated)
        #expect(p.l3Length == 140 && p.payloadOffset == 62 && p.payloadLength == 4 && p.key.dstPort == 53)
    }
}

extension String {
    /// Four hex digits, for an IPv6 payload length.
    init(format4 value: Int) {
        let digits = String(value, radix: 16)
        self = String(repeating: "0", count: 4 - digits.count) + digits
    }
}
