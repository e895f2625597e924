/// The IPv6 header and its extension-header chain (hop-by-hop, routing, fragment,
/// destination options, AH), up to eight deep.
extension PacketParser {
    /// The most extension headers followed before the packet is called malformed.
    @inlinable static var maxIPv6ExtensionHeaders: Int { 8 }

    /// Parses the IPv6 header at `offset`, its extension headers, then the transport header.
    /// - Parameter snapped: as for `parseIPv4`: a payload length beyond the capture is accepted
    ///   when the capture was cut by the snap length.
    @inlinable @inline(__always)
    static func parseIPv6(_ frame: UnsafeRawBufferPointer, at offset: Int, snapped: Bool, into packet: inout ParsedPacket) -> ParseOutcome {
        let count = frame.count
        guard offset + 40 <= count else { return .truncatedIPv6Header }
        guard u8(frame, offset) >> 4 == 6 else { return .badIPVersion }
        let totalLength = 40 + Int(be16(frame, offset + 4))

        let declaredEnd = offset + totalLength
        var capturedEnd = declaredEnd
        if declaredEnd > count {
            guard snapped else { return .ipv6LengthBeyondCapture }
            capturedEnd = count
            packet.payloadTruncated = true
        }

        packet.l3Offset = u32(offset)
        packet.l3Length = u32(totalLength)
        packet.ipTTL = u8(frame, offset + 7)

        var nextHeader = u8(frame, offset + 6)
        var l4 = offset + 40
        var fragment = FragmentKind.none
        let chain = walkIPv6ExtensionHeaders(
            frame, end: capturedEnd, nextHeader: &nextHeader, offset: &l4, fragment: &fragment)
        guard chain == .ok else { return chain }

        packet.key = FlowKey(
            src: IPAddress(high: be64(frame, offset + 8), low: be64(frame, offset + 16)),
            dst: IPAddress(high: be64(frame, offset + 24), low: be64(frame, offset + 32)),
            srcPort: 0, dstPort: 0, proto: nextHeader, family: .ipv6)
        packet.fragment = fragment
        packet.l4Offset = u32(l4)

        if nextHeader == 59 {
            // No Next Header: nothing follows (RFC 8200 §4.7 says to ignore any bytes that do).
            packet.payloadOffset = u32(l4)
            return .ok
        }
        if fragment == .later {
            packet.payloadOffset = u32(l4)
            packet.payloadLength = u32(capturedEnd - l4)
            return .ok
        }
        return parseTransport(
            frame, proto: nextHeader, isIPv6: true, at: l4,
            declaredEnd: declaredEnd, capturedEnd: capturedEnd, into: &packet)
    }

    /// Follows extension headers from `offset` while `nextHeader` names one, stopping early at a
    /// later fragment (whose upper-layer header is elsewhere). On return `nextHeader` is the
    /// upper-layer protocol (or 59) and `offset` where it starts. Every header must lie before
    /// `end`. Shared by `parse` and `parseEmbedded`.
    @inlinable
    static func walkIPv6ExtensionHeaders(
        _ frame: UnsafeRawBufferPointer, end: Int,
        nextHeader: inout UInt8, offset: inout Int, fragment: inout FragmentKind
    ) -> ParseOutcome {
        var seen = 0
        while true {
            let length: Int
            switch nextHeader {
            case 0, 43, 60, 44, 51:
                guard seen < maxIPv6ExtensionHeaders else { return .tooManyIPv6ExtensionHeaders }
                seen += 1
                // Every extension header is at least 8 bytes, whatever its kind.
                guard offset + 8 <= end else { return .truncatedIPv6ExtensionHeader }
                switch nextHeader {
                case 44:
                    // Fragment: next(1) reserved(1) offset<<3|M(2) identification(4).
                    let field = be16(frame, offset + 2)
                    if field & 0xFFF8 != 0 {
                        fragment = .later
                    } else if field & 1 != 0 {
                        fragment = .first
                    }
                    length = 8
                case 51:
                    // AH: its length is in 4-byte units, minus 2.
                    length = (Int(u8(frame, offset + 1)) + 2) << 2
                default:
                    // Hop-by-hop, routing, destination options: 8-byte units, minus 1.
                    length = (Int(u8(frame, offset + 1)) + 1) << 3
                }
                guard offset + length <= end else { return .truncatedIPv6ExtensionHeader }
            default:
                return .ok
            }
            nextHeader = u8(frame, offset)
            offset += length
            if fragment == .later { return .ok }
        }
    }
}
