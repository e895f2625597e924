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
    @inline(__always)
    static func pseudoHeaderSum(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, length: Int) -> UInt64 {
        let l3 = Int(packet.l3Offset)
        let addresses = packet.key.family == .ipv4
            ? sum(frame, from: l3 + 12, to: l3 + 20)
            : sum(frame, from: l3 + 8, to: l3 + 40)
        return addresses &+ UInt64(packet.key.proto) &+ UInt64(length)
    }

    /// One's-complement sum of `frame[from..<to]` as big-endian 16-bit words (odd tail padded),
    /// folded to 16 bits. Long spans go 32 bytes a step in SIMD lanes; the rest adds the
    /// native-order 32-bit halves of 64-bit loads into two 64-bit
    /// accumulators (no carry handling: 2^32 additions cannot overflow them), folds, and swaps
    /// the result once (RFC 1071 §2(B): the sum is byte-order independent, and 2^16 ≡ 1 mod
    /// 0xFFFF makes a sum of 32-bit words fold to the sum of their 16-bit halves).
    @inline(__always)
    static func sum(_ frame: UnsafeRawBufferPointer, from: Int, to: Int) -> UInt64 {
        guard let base = frame.baseAddress, to > from else { return 0 }
        var p = base + from
        var remaining = to - from
        var a: UInt64 = 0, b: UInt64 = 0
        if remaining >= 64 {
            // 32 bytes a step as eight 32-bit lanes, each split into its 16-bit halves: a
            // lane grows by at most 2 x 0xFFFF a step, so 32-bit lanes hold a megabyte.
            var lanes = SIMD8<UInt32>(repeating: 0)
            let low = SIMD8<UInt32>(repeating: 0xFFFF)
            while remaining >= 32 {
                let v = p.loadUnaligned(as: SIMD8<UInt32>.self)
                lanes &+= (v & low) &+ (v &>> 16)
                p += 32
                remaining -= 32
            }
            for i in 0..<8 { a &+= UInt64(lanes[i]) }
        }
        while remaining >= 16 {
            let x = p.loadUnaligned(as: UInt64.self), y = p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            a &+= (x & 0xFFFF_FFFF) &+ (x >> 32)
            b &+= (y & 0xFFFF_FFFF) &+ (y >> 32)
            p += 16
            remaining -= 16
        }
        if remaining >= 8 {
            let x = p.loadUnaligned(as: UInt64.self)
            a &+= (x & 0xFFFF_FFFF) &+ (x >> 32)
            p += 8
            remaining -= 8
        }
        if remaining >= 4 {
            b &+= UInt64(p.loadUnaligned(as: UInt32.self))
            p += 4
            remaining -= 4
        }
        if remaining >= 2 {
            a &+= UInt64(p.loadUnaligned(as: UInt16.self))
            p += 2
            remaining -= 2
        }
        if remaining == 1 {
            b &+= UInt64(p.load(as: UInt8.self))  // native (little-endian) placement of the odd byte
        }
        return UInt64(fold(a &+ b).byteSwapped)
    }

    /// End-around-carry fold of a 64-bit sum to 16 bits, in four fixed steps (a loop until the
    /// value fits took a data-dependent number of turns: two mispredicted branches a packet).
    /// Bounds: below 2^33, then 0x2FFFF, then 0x10001, then 0xFFFF.
    @inline(__always)
    static func fold(_ value: UInt64) -> UInt16 {
        var v = (value & 0xFFFF_FFFF) &+ (value >> 32)
        v = (v & 0xFFFF) &+ (v >> 16)
        v = (v & 0xFFFF) &+ (v >> 16)
        v = (v & 0xFFFF) &+ (v >> 16)
        return UInt16(truncatingIfNeeded: v)
    }
}
