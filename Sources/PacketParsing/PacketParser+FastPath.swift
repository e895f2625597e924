/// The fast path for the common case: Ethernet II, no VLAN tag, IPv4 without options, not a
/// fragment, TCP, every length consistent. Anything else falls back to the general path.
extension PacketParser {
    /// Parses `frame` if it is an untagged Ethernet / IPv4 (IHL 5, unfragmented) / TCP frame whose
    /// lengths all agree with the capture; returns false, leaving `packet` for the general path
    /// to overwrite, otherwise. Never reports malformation itself: the general path names it.
    @inlinable @inline(__always)
    static func parseFastEthernetIPv4TCP(_ frame: UnsafeRawBufferPointer, into packet: inout ParsedPacket) -> Bool {
        // Layout: Ethernet 0..<14, IPv4 14..<34, TCP from 34.
        let count = frame.count
        guard count >= 54,
              be16(frame, 12) == EtherType.ipv4,
              u8(frame, 14) == 0x45,               // version 4, IHL 5
              u8(frame, 23) == 6,                  // TCP (a literal: no global accessor)
              be16(frame, 20) & 0x3FFF == 0        // no MF, fragment offset 0
        else { return false }
        let totalLength = Int(be16(frame, 16))
        // 14 + totalLength: totalLength <= 65535, cannot overflow Int.
        guard totalLength >= 40, 14 &+ totalLength <= count else { return false }
        let tcpHeaderLength = Int(u8(frame, 46) >> 4) << 2
        // 20 + tcpHeaderLength: at most 80, cannot overflow.
        guard tcpHeaderLength >= 20, 20 &+ tcpHeaderLength <= totalLength else { return false }

        let flags = TCPFlags(rawValue: u8(frame, 47))
        var p = ParsedPacket()
        p.key = FlowKey(
            src: IPAddress(v4: be32(frame, 26)), dst: IPAddress(v4: be32(frame, 30)),
            srcPort: be16(frame, 34), dstPort: be16(frame, 36),
            proto: 6, family: .ipv4)
        p.etherType = EtherType.ipv4
        p.l3Offset = 14
        p.l3Length = u32(totalLength)
        p.l4Offset = 34
        // 34 + tcpHeaderLength <= 14 + totalLength <= count (checked above): no overflow, and
        // the payload length below is >= 0.
        let payloadOffset = 34 &+ tcpHeaderLength
        p.payloadOffset = u32(payloadOffset)
        p.payloadLength = u32((14 &+ totalLength) &- payloadOffset)
        p.ipTTL = u8(frame, 22)
        p.tcpFlags = flags
        p.tcpSeq = be32(frame, 38)
        p.tcpAck = be32(frame, 42)
        p.tcpWindow = be16(frame, 48)
        // `rawValue & 0x02`, not `contains(.syn)`: `.syn` is a global, read through an accessor
        // call from client modules.
        if flags.rawValue & 0x02 != 0 && tcpHeaderLength > 20 {
            p.tcpWindowScale = windowScaleOption(frame, from: 54, to: payloadOffset)
        }
        packet = p
        return true
    }
}
