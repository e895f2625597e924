/// Transport headers: TCP (flags, sequence numbers, window scale, payload), UDP, SCTP ports,
/// ICMP and ICMPv6 (echo identifiers, the packet quoted by an error).
extension PacketParser {
    /// Parses the transport header at `l4`. (Protocol numbers are literals throughout this
    /// module's inlinable code: `IPProtocol.tcp` and friends are globals, read through an
    /// accessor call from client modules.)
    /// - Parameters:
    ///   - declaredEnd: end of the IP packet as its length field says (may pass the capture
    ///     when snapped); lengths inside the transport header are checked against it.
    ///   - capturedEnd: `min(declaredEnd, frame.count)`: what may actually be read.
    @inlinable @inline(__always)
    static func parseTransport(
        _ frame: UnsafeRawBufferPointer, proto: UInt8, isIPv6: Bool, at l4: Int,
        declaredEnd: Int, capturedEnd: Int, into packet: inout ParsedPacket
    ) -> ParseOutcome {
        packet.l4Offset = u32(l4)
        switch proto {
        case 6:  // TCP
            return parseTCP(frame, at: l4, declaredEnd: declaredEnd, capturedEnd: capturedEnd, into: &packet)
        case 17:  // UDP
            return parseUDP(frame, at: l4, declaredEnd: declaredEnd, capturedEnd: capturedEnd, into: &packet)
        case 132:  // SCTP
            // Common header: source port, destination port, verification tag, checksum.
            guard l4 + 12 <= capturedEnd else { return .truncatedSCTPHeader }
            packet.key.srcPort = be16(frame, l4)
            packet.key.dstPort = be16(frame, l4 + 2)
            packet.payloadOffset = u32(l4 + 12)
            packet.payloadLength = u32(capturedEnd - (l4 + 12))
            return .ok
        case 1 where !isIPv6, 58 where isIPv6:  // ICMP, ICMPv6
            return parseICMP(frame, isIPv6: isIPv6, at: l4, capturedEnd: capturedEnd, into: &packet)
        default:
            // Anything else (ESP, GRE, ICMP in the wrong family...): ports 0, payload from l4.
            packet.payloadOffset = u32(l4)
            packet.payloadLength = u32(capturedEnd - l4)
            return .ok
        }
    }

    /// TCP: ports, flags, sequence and acknowledgement numbers, window, the window-scale option
    /// on SYN segments, and the payload bounds.
    @inlinable @inline(__always)
    static func parseTCP(
        _ frame: UnsafeRawBufferPointer, at l4: Int, declaredEnd: Int, capturedEnd: Int,
        into packet: inout ParsedPacket
    ) -> ParseOutcome {
        guard l4 + 20 <= capturedEnd else { return .truncatedTCPHeader }
        let headerLength = Int(u8(frame, l4 + 12) >> 4) << 2
        guard headerLength >= 20, l4 + headerLength <= declaredEnd else { return .badTCPDataOffset }
        let flags = TCPFlags(rawValue: u8(frame, l4 + 13))
        packet.key.srcPort = be16(frame, l4)
        packet.key.dstPort = be16(frame, l4 + 2)
        packet.tcpSeq = be32(frame, l4 + 4)
        packet.tcpAck = be32(frame, l4 + 8)
        packet.tcpFlags = flags
        packet.tcpWindow = be16(frame, l4 + 14)
        // When snapped, options may run past the capture: read only what is there, and let the
        // payload start no later than the capture's end so that it is always a valid range.
        let payloadOffset = min(l4 + headerLength, capturedEnd)
        if flags.rawValue & 0x02 != 0 && headerLength > 20 {  // SYN (see the fast path)
            packet.tcpWindowScale = windowScaleOption(frame, from: l4 + 20, to: payloadOffset)
        }
        packet.payloadOffset = u32(payloadOffset)
        packet.payloadLength = u32(capturedEnd - payloadOffset)
        return .ok
    }

    /// The shift count of the window-scale option (kind 3, length 3) among the TCP options in
    /// `start..<end`, or `TCPWindowScale.absent`. Malformed options end the search, not the packet.
    @inlinable
    static func windowScaleOption(_ frame: UnsafeRawBufferPointer, from start: Int, to end: Int) -> UInt8 {
        commonSYNLayoutWindowScale(frame, from: start, to: end) ?? walkForWindowScale(frame, from: start, to: end)
    }

    /// The window-scale shift of a SYN whose options are laid out as most stacks lay them out,
    /// read from its fixed place; nil for any other layout. For these layouts the walk below
    /// gives the same answer, option by option, in 50-60 instructions more (a test compares the
    /// two on every layout and on random option bytes):
    /// - MSS, SACK-permitted, NOP, window scale (BSD; this project's generator);
    /// - MSS, NOP, window scale (Windows);
    /// - MSS, SACK-permitted, timestamps, NOP, window scale (Linux).
    @inlinable @inline(__always)
    static func commonSYNLayoutWindowScale(_ frame: UnsafeRawBufferPointer, from start: Int, to end: Int) -> UInt8? {
        guard end - start >= 8 else { return nil }
        let head = be64(frame, start)
        guard head >> 48 == 0x0204 else { return nil }  // MSS, length 4
        let next = UInt32(truncatingIfNeeded: head)  // bytes 4-7
        if next >> 8 == 0x01_0303 { return UInt8(truncatingIfNeeded: next) }  // NOP, window scale
        if next == 0x0402_0103, end - start >= 10, be16(frame, start + 8) >> 8 == 0x03 {
            return u8(frame, start + 9)  // SACK-permitted, NOP, window scale
        }
        if next == 0x0402_080A, end - start >= 20, be32(frame, start + 16) >> 8 == 0x01_0303 {
            return u8(frame, start + 19)  // SACK-permitted, timestamps, NOP, window scale
        }
        return nil
    }

    /// `windowScaleOption` by walking the options one by one.
    @inlinable
    static func walkForWindowScale(_ frame: UnsafeRawBufferPointer, from start: Int, to end: Int) -> UInt8 {
        var i = start
        while i < end {
            let kind = u8(frame, i)
            if kind == 0 { break }                  // end of option list
            if kind == 1 { i += 1; continue }       // no-operation
            guard i + 1 < end else { break }
            let length = Int(u8(frame, i + 1))
            guard length >= 2, i + length <= end else { break }
            if kind == 3 && length == 3 { return u8(frame, i + 2) }
            i += length
        }
        return 0xFF  // TCPWindowScale.absent
    }

    /// UDP: ports and payload. The length field must be at least 8 and fit in the IP packet as
    /// declared; it may pass the capture only when the IP packet itself does (snapped). A first
    /// fragment is exempt from the fit: its length counts the whole datagram, which goes on in
    /// the later fragments (found by the fragment-flood test).
    @inlinable @inline(__always)
    static func parseUDP(
        _ frame: UnsafeRawBufferPointer, at l4: Int, declaredEnd: Int, capturedEnd: Int,
        into packet: inout ParsedPacket
    ) -> ParseOutcome {
        guard l4 + 8 <= capturedEnd else { return .truncatedUDPHeader }
        let length = Int(be16(frame, l4 + 4))
        guard length >= 8, l4 + length <= declaredEnd || packet.fragment == .first else { return .badUDPLength }
        packet.key.srcPort = be16(frame, l4)
        packet.key.dstPort = be16(frame, l4 + 2)
        packet.payloadOffset = u32(l4 + 8)
        packet.payloadLength = u32(min(l4 + length, capturedEnd) - (l4 + 8))
        return .ok
    }

    /// ICMP / ICMPv6: type and code; echo request/reply put the identifier in both ports; errors
    /// record where the quoted IP header starts (when its fixed part was captured).
    @inlinable
    static func parseICMP(
        _ frame: UnsafeRawBufferPointer, isIPv6: Bool, at l4: Int, capturedEnd: Int,
        into packet: inout ParsedPacket
    ) -> ParseOutcome {
        guard l4 + 4 <= capturedEnd else { return .truncatedICMPHeader }
        let type = u8(frame, l4)
        packet.icmpType = type
        packet.icmpCode = u8(frame, l4 + 1)
        let echo = isICMPEcho(type, isIPv6: isIPv6)
        let error = isICMPError(type, isIPv6: isIPv6)
        var payloadOffset = l4 + 4
        if echo || error {
            guard l4 + 8 <= capturedEnd else { return .truncatedICMPHeader }
            payloadOffset = l4 + 8
            if echo {
                let identifier = be16(frame, l4 + 4)
                packet.key.srcPort = identifier
                packet.key.dstPort = identifier
            } else if payloadOffset + (isIPv6 ? 40 : 20) <= capturedEnd {
                packet.icmpInnerOffset = u32(payloadOffset)
            }
        }
        packet.payloadOffset = u32(payloadOffset)
        packet.payloadLength = u32(capturedEnd - payloadOffset)
        return .ok
    }

    /// Echo request or reply: ICMP 8 / 0, ICMPv6 128 / 129.
    @inlinable @inline(__always)
    static func isICMPEcho(_ type: UInt8, isIPv6: Bool) -> Bool {
        isIPv6 ? (type == 128 || type == 129) : (type == 8 || type == 0)
    }

    /// Error messages that quote the offending packet: ICMP destination unreachable (3), source
    /// quench (4), redirect (5), time exceeded (11), parameter problem (12); ICMPv6 1 to 4.
    @inlinable @inline(__always)
    static func isICMPError(_ type: UInt8, isIPv6: Bool) -> Bool {
        isIPv6 ? (type >= 1 && type <= 4) : (type == 3 || type == 4 || type == 5 || type == 11 || type == 12)
    }
}
