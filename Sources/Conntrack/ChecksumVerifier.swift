import PacketParsing

/// Verifies the IPv4 header checksum and the TCP/UDP/ICMP/ICMPv6 checksum of a parsed packet
/// (RFC 1071 one's-complement sums, with the IPv4/IPv6 pseudo-header where the protocol has one).
enum ChecksumVerifier {
    /// True when every checksum present is right, or when the bytes needed are not all captured.
    ///
    /// Sums stay unfolded and in native byte order until one fold per checksum: a right
    /// checksum folds to 0xFFFF, which reads the same in either byte order, so nothing is
    /// swapped (the pseudo-header's protocol and length are added swapped instead).
    static func verify(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer) -> Bool {
        let l3 = Int(packet.l3Offset), l4 = Int(packet.l4Offset)
        let end = l3 + Int(packet.l3Length)
        guard let base = frame.baseAddress, frame.count >= end, !packet.payloadTruncated, l4 > l3, end >= l4
        else { return true }
        let isIPv4 = packet.key.family == .ipv4
        let proto = packet.key.proto
        if isIPv4 && l4 - l3 == 20 && (proto == IPProtocol.tcp || proto == IPProtocol.udp) {
            return verifyIPv4(base, l3: l3, l4: l4, end: end, proto: proto)
        }
        if isIPv4, fold(nativeSum(base + l3, count: l4 - l3)) != 0xFFFF { return false }
        var pseudo: UInt64 = 0
        if proto == IPProtocol.tcp || proto == IPProtocol.udp || proto == IPProtocol.icmpv6 {
            if proto == IPProtocol.udp, isIPv4, end - l4 >= 8,
               frame.loadUnaligned(fromByteOffset: l4 + 6, as: UInt16.self) == 0 {
                return true  // UDP over IPv4 without a checksum
            }
            pseudo = isIPv4 ? nativeSum(base + l3 + 12, count: 8) : nativeSum(base + l3 + 8, count: 32)
            pseudo &+= UInt64(UInt16(proto).byteSwapped) &+ UInt64(UInt16(truncatingIfNeeded: end - l4).byteSwapped)
        } else if proto != IPProtocol.icmp {
            return true  // no checksum we know of
        }
        return fold(pseudo &+ nativeSum(base + l4, count: end - l4)) == 0xFFFF
    }

    /// `verify` for a TCP segment read in place, with the IPv4 header without options
    /// (`verifyIPv4`) inline.
    @inline(always)
    static func verifyTCP(_ packet: UnsafePointer<ParsedPacket>, frame: UnsafeRawBufferPointer) -> Bool {
        let l3 = Int(packet.pointee.l3Offset), l4 = Int(packet.pointee.l4Offset)
        let end = l3 + Int(packet.pointee.l3Length)
        if let base = frame.baseAddress, packet.pointee.key.family == .ipv4, l4 - l3 == 20, end >= l4,
           frame.count >= end, !packet.pointee.payloadTruncated {
            return verifyIPv4(base, l3: l3, l4: l4, end: end, proto: IPProtocol.tcp)
        }
        return verify(packet.pointee, frame: frame)
    }

    /// `verify` for the packets most traces carry: TCP or UDP over an IPv4 header without
    /// options, in few instructions. The header's 20 bytes are three loads, and its last eight
    /// (the addresses) are the pseudo-header's too; the segment goes to `spanSum`; the two
    /// checks fold at once (both folds are 0xFFFF exactly when their AND is).
    @inline(always)
    static func verifyIPv4(_ base: UnsafeRawPointer, l3: Int, l4: Int, end: Int, proto: UInt8) -> Bool {
        let ip = base + l3
        let x = ip.loadUnaligned(as: UInt64.self), y = ip.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let addresses = (y >> 32) &+ UInt64(ip.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        let header = (x & 0xFFFF_FFFF) &+ (x >> 32) &+ (y & 0xFFFF_FFFF) &+ addresses
        let length = end - l4
        if proto == IPProtocol.udp, length >= 8, base.loadUnaligned(fromByteOffset: l4 + 6, as: UInt16.self) == 0 {
            return fold(header) == 0xFFFF  // UDP over IPv4 without a checksum
        }
        let pseudo = addresses &+ UInt64(UInt16(proto).byteSwapped) &+ UInt64(UInt16(truncatingIfNeeded: length).byteSwapped)
        return fold(header) & fold(pseudo &+ spanSum(base + l4, count: length)) == 0xFFFF
    }

    /// `nativeSum` of a span, in few instructions for spans of 64 bytes and more and with no
    /// branch on their length but the loop's: whole 32-byte blocks from the start; then the
    /// last `count % 32` bytes (the odd byte aside) from one load of the 32 bytes that end with
    /// the span, its first words (summed already) masked off; the lanes folded to 17 bits and
    /// added across in the vector unit. Shorter spans (headers, ACKs: the vector set-up costs
    /// more than it saves) and spans past `maximumSpan` go to `nativeSum`.
    @inline(always)
    static func spanSum(_ start: UnsafeRawPointer, count: Int) -> UInt64 {
        guard count >= 64 && count <= maximumSpan else { return nativeSum(start, count: count) }
        let even = count & ~1
        let end = start + even
        let low = SIMD8<UInt32>(repeating: 0xFFFF)
        var lanes = SIMD8<UInt32>(repeating: 0)
        var p = start
        let blocksEnd = start + (even & ~31)
        while p < blocksEnd {
            let v = p.loadUnaligned(as: SIMD8<UInt32>.self)
            lanes &+= (v & low) &+ (v &>> 16)
            p += 32
        }
        let summed = SIMD16<Int16>(repeating: Int16(truncatingIfNeeded: 16 - (even & 31) >> 1))
        let words = (end - 32).loadUnaligned(as: SIMD16<Int16>.self)
        let tail = unsafeBitCast(words.replacing(with: 0, where: wordIndices .< summed), to: SIMD8<UInt32>.self)
        lanes &+= (tail & low) &+ (tail &>> 16)
        // Each lane is below 2^32; folded to the sum of its 16-bit halves (below 2^17) the
        // eight add up without overflow in 32 bits.
        let total = UInt64(((lanes & low) &+ (lanes &>> 16)).wrappedSum())
        // The odd last byte, if any (native placement: the low half of a zero-padded word).
        let odd = UInt64((start + count - 1).load(as: UInt8.self))
        return total &+ (odd & (0 &- UInt64(count & 1)))
    }

    /// The longest span `spanSum` takes: a lane grows by at most 2 x 0xFFFF per 32-byte block,
    /// so 32-bit lanes hold 32,768 blocks.
    static var maximumSpan: Int { 1 << 20 }

    /// 0, 1, ..., 15: the word positions of a 32-byte load.
    @inline(__always)
    static var wordIndices: SIMD16<Int16> { SIMD16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) }

    /// The unfolded sum of `count` bytes as native-order (little-endian) 32-bit words, an odd
    /// last byte in the low half of a zero-padded 16-bit word. Long spans go 32 bytes a step in
    /// SIMD lanes; the rest adds the 32-bit halves of 64-bit loads into two 64-bit accumulators
    /// (no carry handling: 2^32 additions cannot overflow them). 2^16 ≡ 1 mod 0xFFFF makes a
    /// sum of 32-bit words fold to the sum of their 16-bit halves.
    @inline(__always)
    static func nativeSum(_ start: UnsafeRawPointer, count: Int) -> UInt64 {
        var p = start
        var remaining = count
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
        return a &+ b
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
