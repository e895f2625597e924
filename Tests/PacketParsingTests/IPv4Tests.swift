/// IPv4 vectors: options, fragments, snapped captures. Hand-built per RFC 791.
import Testing
import PacketParsing

@Suite struct IPv4Tests {
    /// IHL 6 with a Router Alert option (RFC 2113): transport starts at 14 + 24.
    @Test func options() {
        let frame = H.eth4 + "4600 0024 0003 0000 4011 0000 " + H.addrA + H.addrB + "94040000" + H.udp12
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok)
        #expect(p.l3Offset == 14 && p.l3Length == 36 && p.l4Offset == 38)
        #expect(p.payloadOffset == 46 && p.payloadLength == 4)
        #expect(p.key == FlowKey(src: A, dst: B, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv4))
    }

    /// TCP with IPv4 options goes through the general path and still reads the TCP fields.
    @Test func optionsTCP() {
        let frame = H.eth4 + "4600 0031 0003 0000 4006 0000 " + H.addrA + H.addrB + "01010100" + H.tcpAckPsh + "68656c6c6f"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok)
        #expect(p.l4Offset == 38 && p.payloadOffset == 58 && p.payloadLength == 5)
        #expect(p.tcpFlags == [.ack, .psh] && p.key.dstPort == 80)
    }

    /// First fragment (offset 0, MF): the TCP header is there and parsed.
    @Test func firstFragment() {
        let frame = H.eth4 + "4500 0030 0004 2000 4006 0000 " + H.addrA + H.addrB + H.tcpAckPsh + "0102030405060708"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok)
        #expect(p.fragment == .first)
        #expect(p.key == FlowKey(src: A, dst: B, srcPort: 49152, dstPort: 80, proto: 6, family: .ipv4))
        #expect(p.tcpSeq == 0x0102_0304 && p.payloadOffset == 54 && p.payloadLength == 8)
    }

    /// Later fragment (offset 185 * 8): no transport header, ports 0, the rest is payload.
    @Test func laterFragment() {
        let frame = H.eth4 + "4500 0024 0004 00b9 4006 0000 " + H.addrA + H.addrB + "00112233445566778899aabbccddeeff"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok)
        #expect(p.fragment == .later)
        #expect(p.key == FlowKey(src: A, dst: B, srcPort: 0, dstPort: 0, proto: 6, family: .ipv4))
        #expect(p.l4Offset == 34 && p.payloadOffset == 34 && p.payloadLength == 16)
        #expect(p.tcpFlags == [] && p.tcpSeq == 0)
    }

    /// A middle fragment (offset > 0 and MF) is also "later".
    @Test func middleFragment() {
        let (outcome, p) = parse(H.eth4 + "4500 0024 0004 20b9 4011 0000 " + H.addrA + H.addrB + "00112233445566778899aabbccddeeff")
        #expect(outcome == .ok && p.fragment == .later && p.key.srcPort == 0 && p.key.proto == 17)
    }

    /// Total length 100 but 45 bytes captured: malformed unless the capture was snapped.
    @Test func lengthBeyondCaptureUnlessSnapped() {
        let frame = H.eth4 + "4500 0064 0001 4000 4006 0000 " + H.addrA + H.addrB + H.tcpAckPsh + "68656c6c6f"
        #expect(parse(frame).0 == .ipv4LengthBeyondCapture)
        let (outcome, p) = parse(frame, wireLength: 114)
        #expect(outcome == .ok)
        #expect(p.payloadTruncated)
        #expect(p.l3Length == 100 && p.payloadOffset == 54 && p.payloadLength == 5)
        #expect(p.key.dstPort == 80)
    }

    /// A snapped capture whose IP packet was captured whole is not truncated.
    @Test func snappedButComplete() {
        let (outcome, p) = parse(H.eth4 + H.ip4udp, wireLength: 200)
        #expect(outcome == .ok && !p.payloadTruncated && p.payloadLength == 4)
    }

    /// Bytes of frame 1 of ../shared/traces/tcpdump/tftp-heapoverflow.pcap (Linux SLL, 48 of
    /// 262144 bytes captured, a fuzzed packet): IPv4 total length 12336 is beyond the capture,
    /// which is fine when snapped, but the UDP length 12336 exceeds the 12316-byte IP payload.
    @Test func realSnappedFuzzPacket() {
        let frame = "3030303030303030303030303030 0800"                          // SLL, protocol IPv4
            + "4530 3030 3030 4000 3011 3030 30303030 30303030"               // IPv4, total 12336
            + "0045 3030 3030 3030 0001 3030"                                 // UDP 69 > 12336, length 12336
        #expect(bytes(frame).count == 48)
        #expect(parse(frame, link: .linuxSLL, wireLength: 262_144).0 == .badUDPLength)
        #expect(parse(frame, link: .linuxSLL, wireLength: 48).0 == .ipv4LengthBeyondCapture)
    }

    /// An IP protocol with no ports (GRE): ports 0, payload from the end of the IP header.
    @Test func otherProtocol() {
        let (outcome, p) = parse(H.eth4 + "4500 0020 000b 0000 402f 0000 " + H.addrA + H.addrB + "0000 0800 45000000 00000000")
        #expect(outcome == .ok)
        #expect(p.key == FlowKey(src: A, dst: B, srcPort: 0, dstPort: 0, proto: 47, family: .ipv4))
        #expect(p.l4Offset == 34 && p.payloadOffset == 34 && p.payloadLength == 12)
    }
}
