import PacketParsing

/// Serial-number arithmetic on 32-bit TCP sequence numbers (RFC 1982 style, as OVS's `SEQ_GEQ`):
/// `a` is at or after `b` when the wrapped difference `a - b`, read as signed, is not negative.
@usableFromInline
enum TCPSequence {
    /// `a` is at or after `b` in sequence space.
    @inlinable
    static func atOrAfter(_ a: UInt32, _ b: UInt32) -> Bool {
        // Wrapping: sequence numbers live modulo 2^32, so the modular difference is the distance.
        Int32(bitPattern: a &- b) >= 0
    }

    /// `a` is strictly after `b` in sequence space.
    @inlinable
    static func after(_ a: UInt32, _ b: UInt32) -> Bool {
        // Wrapping: as in `atOrAfter`, the modular difference is the signed distance.
        Int32(bitPattern: a &- b) > 0
    }

    /// OVS's MAXACKWINDOW: one maximal unscaled window plus a 1500-byte fudge factor.
    @usableFromInline static let maxAckWindow: UInt32 = 0xFFFF + 1500
}

/// The flag rules OVS applies before looking at sequence numbers.
@usableFromInline
enum TCPFlagRules {
    /// OVS `tcp_invalid_flags`: SYN with RST or FIN; neither SYN, ACK nor RST; FIN, PSH or URG
    /// without ACK.
    @inlinable
    static func isInvalid(_ flags: TCPFlags) -> Bool {
        if flags.contains(.syn) {
            if !flags.isDisjoint(with: [.rst, .fin]) { return true }
        } else if flags.isDisjoint(with: [.ack, .rst]) {
            return true
        }
        if !flags.contains(.ack) && !flags.isDisjoint(with: [.fin, .psh, .urg]) { return true }
        return false
    }
}

/// Window-scale bookkeeping in OVS's one-byte encoding: bit 0x80 the peer offered the option,
/// bit 0x40 the scale is unknown (connection picked up mid-stream), low four bits the shift.
@usableFromInline
enum TCPScale {
    @usableFromInline static let offered: UInt8 = 0x80
    @usableFromInline static let unknown: UInt8 = 0x40
    @usableFromInline static let shiftMask: UInt8 = 0x0F
    /// RFC 7323's largest shift; OVS clamps larger option values to it.
    @usableFromInline static let maxShift: UInt8 = 14

    /// The encoding of a SYN's window-scale option (`tcp_get_wscale`): 0 when absent.
    @inlinable
    static func fromOption(_ option: UInt8) -> UInt8 {
        option == TCPWindowScale.absent ? 0 : (min(option, maxShift) | offered)
    }

    /// `window` divided by `2^shift`, rounded up (OVS `DIV_ROUND_UP`): the unscaled window.
    @inlinable @inline(__always)
    static func unscale(_ window: UInt32, by shift: UInt32) -> UInt32 {
        // Cannot overflow: window ≤ 0xFFFF and shift ≤ 15, so the sum stays below 2^17; and the
        // shifts are below 32, so the masking shifts are the plain ones (the checked and
        // smart-shift forms were a call of 19 instructions on every SYN and SYN|ACK).
        (window &+ (1 &<< shift) &- 1) &>> shift
    }
}

extension ParsedPacket {
    /// TCP payload bytes as OVS counts them (`tcp_payload_length`: up to the end of the IP
    /// packet, padding excluded). When the capture was cut short, the IP header's length is used
    /// so that a snapped capture tracks like the full packet did.
    @inlinable
    var tcpSegmentPayloadLength: UInt32 {
        guard payloadTruncated else { return payloadLength }
        let (ipEnd, overflow) = l3Offset.addingReportingOverflow(l3Length)
        guard !overflow, ipEnd >= payloadOffset else { return payloadLength }
        return max(ipEnd - payloadOffset, payloadLength)
    }
}
