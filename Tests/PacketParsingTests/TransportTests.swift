/// Transport vectors: TCP options and payload, UDP lengths, SCTP ports. Hand-built per
/// RFC 9293 / 7323 (TCP, window scale), RFC 768 (UDP), RFC 9260 (SCTP).
import Testing
import PacketParsing

@Suite struct TransportTests {
    /// SYN options: MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (20 bytes).
    static let synOptions = "020405b4 0402 080a0000000100000000 01 030307"
    /// IPv4 / TCP SYN 10.0.0.1:49152 > 10.0.0.2:80, data offset 10, window 0xffff, "abc".
    static let ip4Syn = "4500 003f 0005 4000 4006 0000 " + H.addrA + H.addrB
        + "c000 0050 01020304 00000000 a002 ffff 0000 0000" + synOptions + "616263"

    /// SYN with window scale and payload, on the fast path.
    @Test func synWindowScaleAndPayload() {
        let (outcome, p) = parse(H.eth4 + Self.ip4Syn)
        #expect(outcome == .ok)
        #expect(p.tcpFlags == [.syn] && p.tcpSeq == 0x0102_0304 && p.tcpAck == 0 && p.tcpWindow == 0xffff)
        #expect(p.tcpWindowScale == 7)
        #expect(p.l4Offset == 34 && p.payloadOffset == 74 && p.payloadLength == 3)
        #expect(p.key == FlowKey(src: A, dst: B, srcPort: 49152, dstPort: 80, proto: 6, family: .ipv4))
    }

    /// The same SYN behind a VLAN tag, on the general path.
    @Test func synWindowScaleGeneralPath() {
        let (outcome, p) = parse(H.macs + "8100 0064 0800" + Self.ip4Syn)
        #expect(outcome == .ok)
        #expect(p.tcpWindowScale == 7 && p.payloadOffset == 78 && p.payloadLength == 3)
    }

    /// Window scale on a SYN-ACK with a shift of 14, option placed first.
    @Test func synAckWindowScale() {
        let frame = H.eth4 + "4500 0030 0005 4000 4006 0000 " + H.addrB + H.addrA
            + "0050 c000 0a0b0c0d 01020305 7012 ffff 0000 0000" + "03030e01 020405b4"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok)
        #expect(p.tcpFlags == [.syn, .ack] && p.tcpWindowScale == 14 && p.tcpAck == 0x0102_0305)
    }

    /// A window-scale option on a segment without SYN is not read (RFC 7323 §2.2).
    @Test func windowScaleIgnoredWithoutSYN() {
        let frame = H.eth4 + "4500 003c 0005 4000 4006 0000 " + H.addrA + H.addrB
            + "c000 0050 01020304 05060708 a010 ffff 0000 0000" + Self.synOptions
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok && p.tcpFlags == [.ack] && p.tcpWindowScale == TCPWindowScale.absent)
    }

    /// SYN without the option, and SYN whose options are malformed (length 0): absent, still ok.
    @Test func synWithoutWindowScale() {
        let mssOnly = H.eth4 + "4500 002c 0005 4000 4006 0000 " + H.addrA + H.addrB
            + "c000 0050 01020304 00000000 6002 ffff 0000 0000" + "020405b4"
        let (o1, p1) = parse(mssOnly)
        #expect(o1 == .ok && p1.tcpWindowScale == TCPWindowScale.absent && p1.payloadOffset == 58)
        let broken = H.eth4 + "4500 002c 0005 4000 4006 0000 " + H.addrA + H.addrB
            + "c000 0050 01020304 00000000 6002 ffff 0000 0000" + "02000303"
        let (o2, p2) = parse(broken)
        #expect(o2 == .ok && p2.tcpWindowScale == TCPWindowScale.absent)
        let endOfList = H.eth4 + "4500 002c 0005 4000 4006 0000 " + H.addrA + H.addrB
            + "c000 0050 01020304 00000000 6002 ffff 0000 0000" + "00030307"
        let (o3, p3) = parse(endOfList)
        #expect(o3 == .ok && p3.tcpWindowScale == TCPWindowScale.absent)
    }

    /// All eight flags.
    @Test func allFlags() {
        let frame = H.eth4 + "4500 0028 0001 4000 4006 0000 " + H.addrA + H.addrB
            + "c000 0050 01020304 05060708 50ff faf0 0000 0000"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok)
        #expect(p.tcpFlags == [.fin, .syn, .rst, .psh, .ack, .urg, .ece, .cwr])
    }

    /// TCP header captured but its options cut by the snap length: ok, payload empty at the
    /// end of the capture, the window scale read only if it was captured.
    @Test func snappedTCPOptions() {
        let frame = H.eth4 + "4500 003f 0005 4000 4006 0000 " + H.addrA + H.addrB
            + "c000 0050 01020304 00000000 a002 ffff 0000 0000" + "020405b4 0402"
        let (outcome, p) = parse(frame, wireLength: 77)
        #expect(outcome == .ok && p.payloadTruncated)
        #expect(p.tcpWindowScale == TCPWindowScale.absent)
        #expect(p.payloadOffset == 60 && p.payloadLength == 0)
    }

    /// UDP: ports, payload bounded by the UDP length (shorter than the IP payload here).
    @Test func udpLengthShorterThanIPPayload() {
        let frame = H.eth4 + "4500 0024 0002 0000 4011 0000 " + H.addrA + H.addrB + "14e9 0035 000a 0000 abcd 0000 0000 0000"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok)
        #expect(p.payloadOffset == 42 && p.payloadLength == 2)
    }

    /// UDP length beyond the capture is accepted when the capture was snapped.
    @Test func udpSnapped() {
        let frame = H.eth4 + "4500 0064 0002 0000 4011 0000 " + H.addrA + H.addrB + "14e9 0035 0050 0000 deadbeef"
        #expect(parse(frame).0 == .ipv4LengthBeyondCapture)
        let (outcome, p) = parse(frame, wireLength: 114)
        #expect(outcome == .ok && p.payloadTruncated)
        #expect(p.payloadOffset == 42 && p.payloadLength == 4 && p.key.srcPort == 5353)
    }

    /// SCTP: ports from the common header.
    @Test func sctp() {
        let frame = H.eth4 + "4500 0030 000a 4000 4084 0000 " + H.addrA + H.addrB
            + "1388 8e3c 00000001 00000000" + "00030010 00000001 00000000 00000000"
        let (outcome, p) = parse(frame)
        #expect(outcome == .ok)
        #expect(p.key == FlowKey(src: A, dst: B, srcPort: 5000, dstPort: 36412, proto: 132, family: .ipv4))
        #expect(p.l4Offset == 34 && p.payloadOffset == 46 && p.payloadLength == 16)
    }
}
