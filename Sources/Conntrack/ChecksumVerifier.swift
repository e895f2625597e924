import PacketParsing

/// Verifies the IPv4 header checksum and the TCP/UDP/ICMP/ICMPv6 checksum of a parsed packet
/// (RFC 1071 one's-complement sums, with the IPv4/IPv6 pseudo-header where the protocol has one).
enum ChecksumVerifier {
    /// True when every checksum present is right, or when the bytes needed are not all captured.
    static func verify(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer) -> Bool {
        let l3 = Int(packet.l3Offset), l4 = Int(packet.l4Offset)
        let end = l3 + Int(packet.l3Length)
        guard frame.count >= end, !packet.payloadTruncated, l4 > l3, end >= l4 else { return true }
        if packet.key.family == .ipv4, fold(sum(frame, from: l3, to: l4)) != 0xFFFF { return false }
        let proto = packet.key.proto
        var pseudo: UInt64 = 0
        if proto == IPProtocol.tcp || proto == IPProtocol.udp || proto == IPProtocol.icmpv6 {
            if proto == IPProtocol.udp, packet.key.family == .ipv4, end - l4 >= 8,
               frame.loadUnaligned(fromByteOffset: l4 + 6, as: UInt16.self) == 0 {
                return true  // UDP over IPv4 without a checksum
            }
            pseudo = pseudoHeaderSum(packet, frame: frame, length: end - l4)
        } else if proto != IPProtocol.icmp {
            return true  // no checksum we know of
        }
        return fold(pseudo &+ sum(frame, from: l4, to: end)) == 0xFFFF
    }

    /// Sum of the addresses, protocol and length, as 16-bit big-endian words.
    static func pseudoHeaderSum(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, length: Int) -> UInt64 {
        let l3 = Int(packet.l3Offset)
        let addresses = packet.key.family == .ipv4
            ? sum(frame, from: l3 + 12, to: l3 + 20)
            : sum(frame, from: l3 + 8, to: l3 + 40)
        return addresses &+ UInt64(packet.key.proto) &+ UInt64(length)
    }

    /// One's-complement sum of `frame[from..<to]` as big-endian 16-bit words (odd tail padded),
    /// folded to 16 bits. Adds native-order 64-bit words with end-around carry and swaps the
    /// folded result once (RFC 1071 §2(B): the sum is byte-order independent).
    static func sum(_ frame: UnsafeRawBufferPointer, from: Int, to: Int) -> UInt64 {
        var total: UInt64 = 0
        var i = from
        while i + 8 <= to {
            let (s, carry) = total.addingReportingOverflow(frame.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            total = s &+ (carry ? 1 : 0)  // end-around carry: cannot overflow again (s <= max - 1 when carry)
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < to {
            tail |= UInt64(frame[i]) << shift  // native (little-endian) placement of the tail bytes
            shift += 8
            i += 1
        }
        let (s, carry) = total.addingReportingOverflow(tail)
        total = s &+ (carry ? 1 : 0)
        let folded = fold(total)
        return UInt64(folded.byteSwapped)
    }

    static func fold(_ value: UInt64) -> UInt16 {
        var v = value
        while v > 0xFFFF { v = (v & 0xFFFF) &+ (v >> 16) }
        return UInt16(v)
    }
}
