/// The packet quoted inside an ICMP error: the key of the connection the error is about.
extension PacketParser {
    /// The flow key of the IP packet quoted by an ICMP or ICMPv6 error, as that packet was sent
    /// (its own source, destination and ports; an echo inside gives the identifier as both
    /// ports), or nil when it cannot be parsed.
    ///
    /// Quoted packets are truncated by design (RFC 792 quotes the IP header and 8 bytes), so
    /// their length fields are not checked against the capture; only the headers read are.
    /// Ports need the first 4 bytes of the transport header, an echo identifier the first 6.
    /// - Parameters:
    ///   - frame: the captured bytes of the frame holding the error.
    ///   - offset: where the quoted IP header starts: `ParsedPacket.icmpInnerOffset`.
    @inlinable
    public func parseEmbedded(_ frame: UnsafeRawBufferPointer, at offset: Int) -> FlowKey? {
        let count = frame.count
        guard offset >= 0, offset < count else { return nil }
        switch PacketParser.u8(frame, offset) >> 4 {
        case 4:
            guard offset + 20 <= count else { return nil }
            let headerLength = Int(PacketParser.u8(frame, offset) & 0x0F) << 2
            guard headerLength >= 20, offset + headerLength <= count else { return nil }
            var key = FlowKey(
                src: IPAddress(v4: PacketParser.be32(frame, offset + 12)),
                dst: IPAddress(v4: PacketParser.be32(frame, offset + 16)),
                srcPort: 0, dstPort: 0, proto: PacketParser.u8(frame, offset + 9), family: .ipv4)
            if PacketParser.be16(frame, offset + 6) & 0x1FFF != 0 { return key }  // later fragment
            return PacketParser.embeddedPorts(frame, at: offset + headerLength, into: &key) ? key : nil

        case 6:
            guard offset + 40 <= count else { return nil }
            var nextHeader = PacketParser.u8(frame, offset + 6)
            var l4 = offset + 40
            var fragment = FragmentKind.none
            let chain = PacketParser.walkIPv6ExtensionHeaders(
                frame, end: count, nextHeader: &nextHeader, offset: &l4, fragment: &fragment)
            guard chain == .ok else { return nil }
            var key = FlowKey(
                src: IPAddress(high: PacketParser.be64(frame, offset + 8), low: PacketParser.be64(frame, offset + 16)),
                dst: IPAddress(high: PacketParser.be64(frame, offset + 24), low: PacketParser.be64(frame, offset + 32)),
                srcPort: 0, dstPort: 0, proto: nextHeader, family: .ipv6)
            if fragment == .later || nextHeader == 59 { return key }
            return PacketParser.embeddedPorts(frame, at: l4, into: &key) ? key : nil

        default:
            return nil
        }
    }

    /// Fills the ports of a quoted packet's key from its transport header at `l4`, by the same
    /// rules as `parse`; false when the bytes needed were not captured.
    @inlinable
    static func embeddedPorts(_ frame: UnsafeRawBufferPointer, at l4: Int, into key: inout FlowKey) -> Bool {
        let count = frame.count
        let isIPv6 = key.family == .ipv6
        switch key.proto {
        case 6, 17, 132:  // TCP, UDP, SCTP
            guard l4 + 4 <= count else { return false }
            key.srcPort = be16(frame, l4)
            key.dstPort = be16(frame, l4 + 2)
            return true
        case 1 where !isIPv6, 58 where isIPv6:  // ICMP, ICMPv6
            guard l4 + 1 <= count else { return false }
            if isICMPEcho(u8(frame, l4), isIPv6: isIPv6) {
                guard l4 + 6 <= count else { return false }
                let identifier = be16(frame, l4 + 4)
                key.srcPort = identifier
                key.dstPort = identifier
            }
            return true
        default:
            return true
        }
    }
}
