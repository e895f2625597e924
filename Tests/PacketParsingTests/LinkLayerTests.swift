/// Link-layer vectors: Ethernet (with and without VLAN tags), SLL, SLL2, NULL, LOOP, raw IP.
import Testing
import PacketParsing

@Suite struct LinkLayerTests {
    /// Ethernet / IPv4 / TCP with payload (the fast path). Hand-built.
    @Test func ethernetIPv4TCP() {
        let (outcome, p) = parse(H.eth4 + H.ip4tcp)
        #expect(outcome == .ok)
        #expect(p.key == FlowKey(src: A, dst: B, srcPort: 49152, dstPort: 80, proto: 6, family: .ipv4))
        #expect(p.etherType == 0x0800)
        #expect(p.vlanCount == 0 && p.outerVLAN == 0)
        #expect(p.l3Offset == 14 && p.l3Length == 45)
        #expect(p.l4Offset == 34)
        #expect(p.payloadOffset == 54 && p.payloadLength == 5)
        #expect(!p.payloadTruncated)
        #expect(p.fragment == .none)
        #expect(p.ipTTL == 64)
        #expect(p.tcpFlags == [.ack, .psh])
        #expect(p.tcpSeq == 0x0102_0304 && p.tcpAck == 0x0506_0708)
        #expect(p.tcpWindow == 0xfaf0)
        #expect(p.tcpWindowScale == TCPWindowScale.absent)
        #expect(p.icmpInnerOffset == 0)
    }

    /// The same IP packet as raw IP (general path) gives the same fields, shifted by 14.
    @Test func fastPathAgreesWithGeneralPath() {
        let (o1, fast) = parse(H.eth4 + H.ip4tcp)
        let (o2, slow) = parse(H.ip4tcp, link: .raw)
        #expect(o1 == .ok && o2 == .ok)
        #expect(fast.key == slow.key)
        #expect(fast.l3Offset == slow.l3Offset + 14 && fast.l4Offset == slow.l4Offset + 14)
        #expect(fast.payloadOffset == slow.payloadOffset + 14)
        #expect(fast.payloadLength == slow.payloadLength && fast.l3Length == slow.l3Length)
        #expect(fast.tcpFlags == slow.tcpFlags && fast.tcpSeq == slow.tcpSeq && fast.tcpAck == slow.tcpAck)
        #expect(fast.tcpWindow == slow.tcpWindow && fast.tcpWindowScale == slow.tcpWindowScale)
        #expect(fast.ipTTL == slow.ipTTL && fast.etherType == slow.etherType)
    }

    /// Minimum-size Ethernet frame: 40-byte IP packet + 6 bytes of padding (fast path).
    @Test func ethernetPaddingIgnoredTCP() {
        let frame = H.eth4 + "4500 0028 0001 4000 4006 0000 " + H.addrA + H.addrB
            + "c000 0050 01020304 05060708 5010 faf0 0000 0000" + "000000000000"
        let (outcome, p) = parse(frame)
        #expect(bytes(frame).count == 60)
        #expect(outcome == .ok)
        #expect(p.l3Length == 40)
        #expect(p.payloadOffset == 54 && p.payloadLength == 0)
        #expect(p.tcpFlags == [.ack])
    }

    /// UDP in a padded frame (general path): the 14 padding bytes are not payload.
    @Test func ethernetPaddingIgnoredUDP() {
        let (outcome, p) = parse(H.eth4 + H.ip4udp + "0000000000000000000000000000")
        #expect(outcome == .ok)
        #expect(p.key == FlowKey(src: A, dst: B, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv4))
        #expect(p.l3Length == 32)
        #expect(p.payloadOffset == 42 && p.payloadLength == 4)
    }

    /// One 802.1Q tag, PCP 5, VID 100. Hand-built per IEEE 802.1Q.
    @Test func singleVLAN() {
        let (outcome, p) = parse(H.macs + "8100 a064 0800" + H.ip4udp)
        #expect(outcome == .ok)
        #expect(p.vlanCount == 1 && p.outerVLAN == 100)
        #expect(p.etherType == 0x0800)
        #expect(p.l3Offset == 18 && p.l4Offset == 38 && p.payloadOffset == 46 && p.payloadLength == 4)
        #expect(p.key.srcPort == 5353 && p.key.dstPort == 53)
    }

    /// A VLAN-tagged TCP frame leaves the fast path and still parses fully.
    @Test func vlanTCP() {
        let (outcome, p) = parse(H.macs + "8100 0064 0800" + H.ip4tcp)
        #expect(outcome == .ok)
        #expect(p.key == FlowKey(src: A, dst: B, srcPort: 49152, dstPort: 80, proto: 6, family: .ipv4))
        #expect(p.payloadOffset == 58 && p.payloadLength == 5 && p.tcpSeq == 0x0102_0304)
    }

    /// VLAN tag then IPv6.
    @Test func vlanIPv6() {
        let (outcome, p) = parse(H.macs + "8100 0064 86dd" + H.ip6udp)
        #expect(outcome == .ok)
        #expect(p.etherType == 0x86dd && p.l3Offset == 18)
        #expect(p.key == FlowKey(src: A6, dst: B6, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv6))
    }

    /// QinQ: 802.1ad service tag 200 outside an 802.1Q customer tag 100.
    @Test func qinq() {
        let (outcome, p) = parse(H.macs + "88a8 00c8 8100 0064 0800" + H.ip4udp)
        #expect(outcome == .ok)
        #expect(p.vlanCount == 2 && p.outerVLAN == 200)
        #expect(p.l3Offset == 22 && p.payloadOffset == 50)
    }

    /// Three tags, the outermost the legacy 0x9100 type.
    @Test func tripleVLAN() {
        let (outcome, p) = parse(H.macs + "9100 012c 88a8 00c8 8100 0064 0800" + H.ip4udp)
        #expect(outcome == .ok)
        #expect(p.vlanCount == 3 && p.outerVLAN == 300)
        #expect(p.l3Offset == 26 && p.key.dstPort == 53)
    }

    /// Four tags is the most accepted.
    @Test func fourVLANs() {
        let (outcome, p) = parse(H.macs + "88a8 0001 8100 0002 8100 0003 8100 0004 0800" + H.ip4udp)
        #expect(outcome == .ok)
        #expect(p.vlanCount == 4 && p.outerVLAN == 1 && p.l3Offset == 30)
    }

    /// Five tags: too many.
    @Test func fiveVLANs() {
        let (outcome, _) = parse(H.macs + "88a8 0001 8100 0002 8100 0003 8100 0004 8100 0005 0800" + H.ip4udp)
        #expect(outcome == .tooManyVLANTags)
    }

    /// Linux SLL (cooked v1), hand-built: type 0, ARPHRD_ETHER, 6-byte address, protocol 0x0800.
    @Test func linuxSLL() {
        let (outcome, p) = parse("0000 0001 0006 020000000001 0000 0800" + H.ip4udp, link: .linuxSLL)
        #expect(outcome == .ok)
        #expect(p.l3Offset == 16 && p.l4Offset == 36 && p.payloadOffset == 44 && p.payloadLength == 4)
        #expect(p.key == FlowKey(src: A, dst: B, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv4))
    }

    /// Linux SLL2 (cooked v2), hand-built: protocol 0x86DD first, then 18 more header bytes.
    @Test func linuxSLL2IPv6() {
        let (outcome, p) = parse("86dd 0000 00000002 0001 00 06 020000000001 0000" + H.ip6udp, link: .linuxSLL2)
        #expect(outcome == .ok)
        #expect(p.etherType == 0x86dd && p.l3Offset == 20 && p.l4Offset == 60)
        #expect(p.key == FlowKey(src: A6, dst: B6, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv6))
    }

    /// Bytes of frame 1 of ../shared/traces/suricata-verify/decode-sll2-02.pcap (SLL2, a SYN
    /// with MSS, SACK-permitted, timestamps, NOP, window scale 7); values as tshark decodes them.
    @Test func linuxSLL2RealSYN() {
        let frame = "080000000000000200010406aa763071b0e700004500003c45a94000400670b0c0a801fdc0a80115"
            + "dc9e00508b0b439300000000a002faf0d70c0000020405b40402080ac5be80530000000001030307"
        let (outcome, p) = parse(frame, link: .linuxSLL2)
        #expect(outcome == .ok)
        #expect(p.key == FlowKey(
            src: IPAddress(v4: 0xc0a8_01fd), dst: IPAddress(v4: 0xc0a8_0115),
            srcPort: 56478, dstPort: 80, proto: 6, family: .ipv4))
        #expect(p.l3Offset == 20 && p.l3Length == 60 && p.l4Offset == 40)
        #expect(p.tcpFlags == [.syn] && p.tcpSeq == 2_332_771_219 && p.tcpAck == 0)
        #expect(p.tcpWindow == 64240 && p.tcpWindowScale == 7)
        #expect(p.payloadOffset == 80 && p.payloadLength == 0)
    }

    /// DLT_NULL, family 2 written little-endian (this test assumes a little-endian host).
    @Test func nullIPv4() {
        let (outcome, p) = parse("02000000" + H.ip4udp, link: .null)
        #expect(outcome == .ok)
        #expect(p.etherType == 0x0800 && p.l3Offset == 4 && p.payloadOffset == 32)
        #expect(p.key.src == A && p.key.dstPort == 53)
    }

    /// DLT_NULL with each IPv6 family value (Linux 10, BSD 24, FreeBSD 28, Darwin 30).
    @Test(arguments: ["0a000000", "18000000", "1c000000", "1e000000"])
    func nullIPv6(family: String) {
        let (outcome, p) = parse(family + H.ip6udp, link: .null)
        #expect(outcome == .ok)
        #expect(p.etherType == 0x86dd && p.l3Offset == 4 && p.key.family == .ipv6)
        #expect(p.key.src == A6 && p.key.srcPort == 5353)
    }

    /// DLT_NULL written by a host of the other byte order: the family is recognised swapped.
    @Test func nullOtherByteOrder() {
        let (outcome, p) = parse("00000002" + H.ip4udp, link: .null)
        #expect(outcome == .ok)
        #expect(p.key.dst == B)
    }

    /// DLT_LOOP: the family is big-endian.
    @Test func loopIPv4AndIPv6() {
        let (o4, p4) = parse("00000002" + H.ip4udp, link: .loop)
        #expect(o4 == .ok && p4.etherType == 0x0800 && p4.l3Offset == 4 && p4.key.src == A)
        let (o6, p6) = parse("00000018" + H.ip6udp, link: .loop)
        #expect(o6 == .ok && p6.etherType == 0x86dd && p6.l3Offset == 4 && p6.key.src == A6)
    }

    /// A loopback family that is not IP.
    @Test func loopUnknownFamily() {
        #expect(parse("00000007" + H.ip4udp, link: .loop).0 == .unsupportedEtherType)
        #expect(parse("07000000" + H.ip4udp, link: .null).0 == .unsupportedEtherType)
    }

    /// Raw IP (DLT 12 and LINKTYPE 101): version from the first nibble.
    @Test func rawIP() {
        let (o4, p4) = parse(H.ip4udp, link: .raw)
        #expect(o4 == .ok && p4.etherType == 0x0800 && p4.l3Offset == 0 && p4.l4Offset == 20)
        #expect(p4.key == FlowKey(src: A, dst: B, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv4))
        let (o6, p6) = parse(H.ip6udp, link: .rawLinktype)
        #expect(o6 == .ok && p6.etherType == 0x86dd && p6.l3Offset == 0 && p6.l4Offset == 40)
        #expect(p6.key == FlowKey(src: A6, dst: B6, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv6))
        let (o6b, _) = parse(H.ip6udp, link: .raw)
        #expect(o6b == .ok)
    }

    /// LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229).
    @Test func rawIPv4AndIPv6LinkTypes() {
        let (o4, p4) = parse(H.ip4udp, link: .ipv4)
        #expect(o4 == .ok && p4.l3Offset == 0 && p4.key.src == A && p4.payloadOffset == 28)
        let (o6, p6) = parse(H.ip6udp, link: .ipv6)
        #expect(o6 == .ok && p6.l3Offset == 0 && p6.key.src == A6 && p6.payloadOffset == 48)
        // The link type fixes the version: a mismatch is a bad version.
        #expect(parse(H.ip6udp, link: .ipv4).0 == .badIPVersion)
        #expect(parse(H.ip4tcp, link: .ipv6).0 == .badIPVersion)  // 45 bytes: a whole IPv6 header's worth
        #expect(parse(H.ip4udp, link: .ipv6).0 == .truncatedIPv6Header)  // 32 bytes: too short first
    }

    /// ARP request (RFC 826), hand-built.
    @Test func arp() {
        let frame = "ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002"
        #expect(parse(frame).0 == .arp)
        #expect(parse("0806 0000 00000002 0001 00 06 020000000001 0000 0001 0800 06 04 0001", link: .linuxSLL2).0 == .arp)
    }

    /// LLDP (0x88CC) and an 802.3 length field are not IP.
    @Test func unknownEtherType() {
        #expect(parse(H.macs + "88cc 0207 0402000000000001").0 == .unsupportedEtherType)
        #expect(parse(H.macs + "002e aaaa03 000000 0800" + H.ip4udp).0 == .unsupportedEtherType)
        #expect(parse(H.macs + "8100 0064 88cc 0207").0 == .unsupportedEtherType)
    }

    /// A link type the parser does not know (DLT_IEEE802_11 = 105).
    @Test func unknownLinkType() {
        let (outcome, _) = parse(H.ip4udp, link: LinkType(rawValue: 105))
        #expect(outcome == .unsupportedLinkType)
        #expect(!LinkType(rawValue: 105).isSupported && LinkType.linuxSLL2.isSupported)
    }
}
