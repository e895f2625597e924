/// First fragments of UDP datagrams longer than the fragment: the UDP length counts the whole
/// datagram (found by the fragment-flood test, which saw them parsed as `bad_udp_length`).
import Testing
import PacketParsing

@Suite struct FirstFragmentTests {
    /// UDP length 1208 in a first fragment carrying 16 bytes of the datagram.
    static let udpHeaderOfALongDatagram = "14e9 0035 04b8 0000 deadbeefdeadbeef"

    @Test func ipv4FirstFragmentOfALongDatagram() {
        let (outcome, p) = parse(H.eth4 + "4500 0024 0007 2000 4011 0000 " + H.addrA + H.addrB + Self.udpHeaderOfALongDatagram)
        #expect(outcome == .ok)
        #expect(p.fragment == .first)
        #expect(p.key == FlowKey(src: A, dst: B, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv4))
        #expect(p.payloadOffset == 42 && p.payloadLength == 8, "the payload ends with the fragment")
    }

    @Test func ipv6FirstFragmentOfALongDatagram() {
        let (outcome, p) = parse(H.eth6 + H.ip6(next: "2c", payloadLength: "0018") + "1100 0001 12345678"
                                 + Self.udpHeaderOfALongDatagram)
        #expect(outcome == .ok)
        #expect(p.fragment == .first)
        #expect(p.key.srcPort == 5353 && p.key.dstPort == 53)
        #expect(p.payloadOffset == 70 && p.payloadLength == 8)
    }

    /// Not a fragment: the same header is still malformed.
    @Test func unfragmentedDatagramMustFit() {
        let (outcome, _) = parse(H.eth4 + "4500 0024 0007 4000 4011 0000 " + H.addrA + H.addrB + Self.udpHeaderOfALongDatagram)
        #expect(outcome == .badUDPLength)
    }
}
