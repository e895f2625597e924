/// The IPv4 header: version, header length with options, total length, fragments, addresses.
extension PacketParser {
    /// Parses the IPv4 header at `offset` and then the transport header.
    /// - Parameter snapped: the capture was cut by the snap length, so a total length beyond the
    ///   captured bytes is accepted (and `payloadTruncated` set) rather than called malformed.
    @inlinable @inline(__always)
    static func parseIPv4(_ frame: UnsafeRawBufferPointer, at offset: Int, snapped: Bool, into packet: inout ParsedPacket) -> ParseOutcome {
        let count = frame.count
        guard offset + 20 <= count else { return .truncatedIPv4Header }
        let versionIHL = u8(frame, offset)
        guard versionIHL >> 4 == 4 else { return .badIPVersion }
        let headerLength = Int(versionIHL & 0x0F) << 2
        guard headerLength >= 20, offset + headerLength <= count else { return .badIPv4HeaderLength }
        let totalLength = Int(be16(frame, offset + 2))
        guard totalLength >= headerLength else { return .badIPv4TotalLength }

        // The IP packet as its header says, and the part of it that was captured.
        let declaredEnd = offset + totalLength
        var capturedEnd = declaredEnd
        if declaredEnd > count {
            guard snapped else { return .ipv4LengthBeyondCapture }
            capturedEnd = count
            packet.payloadTruncated = true
        }

        let proto = u8(frame, offset + 9)
        packet.key = FlowKey(
            src: IPAddress(v4: be32(frame, offset + 12)), dst: IPAddress(v4: be32(frame, offset + 16)),
            srcPort: 0, dstPort: 0, proto: proto, family: .ipv4)
        packet.l3Offset = u32(offset)
        packet.l3Length = u32(totalLength)
        packet.ipTTL = u8(frame, offset + 8)

        let l4 = offset + headerLength
        let fragmentField = be16(frame, offset + 6)
        if fragmentField & 0x1FFF != 0 {
            // A later fragment: no transport header here, ports stay 0.
            packet.fragment = .later
            packet.l4Offset = u32(l4)
            packet.payloadOffset = u32(l4)
            packet.payloadLength = u32(capturedEnd - l4)
            return .ok
        }
        if fragmentField & 0x2000 != 0 { packet.fragment = .first }
        return parseTransport(
            frame, proto: proto, isIPv6: false, at: l4,
            declaredEnd: declaredEnd, capturedEnd: capturedEnd, into: &packet)
    }
}
