import PacketParsing

/// Verifies the IPv4 header checksum and the TCP/UDP/ICMP/ICMPv6 checksum of a parsed packet
/// (RFC 1071 one's-complement sums, with the IPv4/IPv6 pseudo-header where the protocol has one).
enum ChecksumVerifier {
    /// True when every checksum present is right, or when the bytes needed are not all captured.
    ///
    /// Sums stay unfolded (64-bit one's-complement sums, `nativeSum`) and in native byte order
    /// to the end, where each is asked whether it would fold to 0xFFFF (`foldsToAllOnes`): a
    /// right checksum's does, which reads the same in either byte order, so nothing is swapped
    /// (the pseudo-header's protocol and length are added swapped instead).
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
        if isIPv4, !foldsToAllOnes(nativeSum(base + l3, count: l4 - l3)) { return false }
        var pseudo: UInt64 = 0
        if proto == IPProtocol.tcp || proto == IPProtocol.udp || proto == IPProtocol.icmpv6 {
            if proto == IPProtocol.udp, isIPv4, end - l4 >= 8,
               frame.loadUnaligned(fromByteOffset: l4 + 6, as: UInt16.self) == 0 {
                return true  // UDP over IPv4 without a checksum
            }
            pseudo = isIPv4 ? nativeSum(base + l3 + 12, count: 8) : nativeSum(base + l3 + 8, count: 32)
            pseudo = addFolding(pseudo, UInt64(UInt16(proto).byteSwapped)
                                    &+ UInt64(UInt16(truncatingIfNeeded: end - l4).byteSwapped))
        } else if proto != IPProtocol.icmp {
            return true  // no checksum we know of
        }
        return foldsToAllOnes(addFolding(pseudo, nativeSum(base + l4, count: end - l4)))
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
    /// (the addresses) are the pseudo-header's too; the segment goes to `nativeSum`; the two
    /// checks fold at once (both folds are 0xFFFF exactly when their AND is).
    @inline(always)
    static func verifyIPv4(_ base: UnsafeRawPointer, l3: Int, l4: Int, end: Int, proto: UInt8) -> Bool {
        let ip = base + l3
        let x = ip.loadUnaligned(as: UInt64.self), y = ip.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let addresses = (y >> 32) &+ UInt64(ip.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        let header = (x & 0xFFFF_FFFF) &+ (x >> 32) &+ (y & 0xFFFF_FFFF) &+ addresses
        let length = end - l4
        if proto == IPProtocol.udp, length >= 8, base.loadUnaligned(fromByteOffset: l4 + 6, as: UInt16.self) == 0 {
            return foldsToAllOnes(header)  // UDP over IPv4 without a checksum
        }
        let pseudo = addresses &+ UInt64(UInt16(proto).byteSwapped) &+ UInt64(UInt16(truncatingIfNeeded: length).byteSwapped)
        // Both sums are non-zero (the header's first byte holds its length, the pseudo-header
        // the protocol, and a one's-complement sum with a non-zero word stays non-zero), so each folds
        // to 0xFFFF exactly when it is a multiple of 0xFFFF (`foldsToAllOnes`), and both are
        // when the larger of their products is within the bound.
        let segment = addFolding(pseudo, length == 20 ? headerOnlySum(base + l4) : nativeSum(base + l4, count: length))
        return Swift.max(header &* inverseOfAllOnes, segment &* inverseOfAllOnes) <= multiplesOfAllOnesBound
    }

    /// The one's-complement sum of `count` bytes as native-order (little-endian) 64-bit words,
    /// an odd last byte in the low half of a zero-padded 16-bit word; a 64-bit sum whose carries
    /// went round into it, so add to it with `addFolding`, not `&+`. 2^64 ≡ 1 mod 0xFFFF makes
    /// a carry added back what folding down to 16 bits would make of it, and 2^16 ≡ 1 makes any
    /// 16-bit word's place in a 64-bit word count for nothing (`foldsToAllOnes` relies on both).
    ///
    /// In few instructions: whole 32-byte blocks from the start (`adc` chains: one instruction
    /// per 8 bytes; eight 32-bit SIMD lanes split into halves took about twice as many, as
    /// x86-64's baseline has no 32-byte vectors), then 8-byte words, then the last 2, 4 or 6
    /// bytes from the 8 that end the even part, shifted down; an odd last byte aside.
    @inline(always)
    static func nativeSum(_ start: UnsafeRawPointer, count: Int) -> UInt64 {
        guard count >= 8 else { return shortSum(start, count: count) }
        let end = start + (count & ~1)
        var p = start
        var sum: UInt64 = 0, other: UInt64 = 0
        let blocksEnd = start + (count & ~31)
        while p < blocksEnd {
            sum = addPair(sum, p)
            other = addPair(other, p + 16)
            p += 32
        }
        sum = addFolding(sum, other)
        while end - p >= 8 {
            sum = addFolding(sum, p.loadUnaligned(as: UInt64.self))
            p += 8
        }
        // The 2, 4 or 6 bytes left are the top of the 8 that end at `end` (count >= 8).
        let left = end - p
        let last = (end - 8).loadUnaligned(as: UInt64.self) &>> UInt64(truncatingIfNeeded: 64 &- 8 &* left)
        sum = addFolding(sum, left == 0 ? 0 : last)
        // The odd last byte, if any (native placement: the low half of a zero-padded word).
        let odd = UInt64((start + count - 1).load(as: UInt8.self))
        return addFolding(sum, odd & (0 &- UInt64(count & 1)))
    }

    /// `sum` plus the two 64-bit words at `p`, carries added back: `add`, `adc`, `adc $0`.
    /// A block's two halves go to two sums, two chains of three dependent instructions (one
    /// chain of five for 32 bytes was as fast as the SIMD sum it replaced, in half the
    /// instructions: the chain's latency was the limit).
    @inline(__always)
    static func addPair(_ sum: UInt64, _ p: UnsafeRawPointer) -> UInt64 {
        var (s, carry) = addWithCarry(sum, p.loadUnaligned(as: UInt64.self), 0)
        (s, carry) = addWithCarry(s, p.loadUnaligned(fromByteOffset: 8, as: UInt64.self), carry)
        return s &+ carry  // cannot carry again: s is at most 2^64 - 2 when carry is 1
    }

    /// `a + b + carryIn` and its carry out (0 or 1): written with comparisons, the form LLVM
    /// turns into one `adc` (with `addingReportingOverflow`, it branched on the flags).
    @inline(__always)
    static func addWithCarry(_ a: UInt64, _ b: UInt64, _ carryIn: UInt64) -> (UInt64, UInt64) {
        let s1 = a &+ b
        let c1: UInt64 = s1 < a ? 1 : 0
        let s2 = s1 &+ carryIn
        let c2: UInt64 = s2 < s1 ? 1 : 0
        return (s2, c1 | c2)
    }

    /// One's-complement addition of 64-bit sums: the carry goes round (`add`, `adc $0`).
    @inline(__always)
    static func addFolding(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (s, carry) = addWithCarry(a, b, 0)
        return s &+ carry
    }

    /// `nativeSum` of a TCP segment that is a header without options or payload (20 bytes: a
    /// handshake's ACK, a close's FIN and ACKs, a pure ACK): two words and the last four bytes
    /// in one `adc` chain, where `nativeSum`'s loops and tail took about twenty instructions more.
    @inline(__always)
    static func headerOnlySum(_ start: UnsafeRawPointer) -> UInt64 {
        addPair(UInt64(start.loadUnaligned(fromByteOffset: 16, as: UInt32.self)), start)
    }

    /// `nativeSum` of fewer than 8 bytes: a 4-, a 2- and a 1-byte load, as the count has them.
    @inline(__always)
    static func shortSum(_ start: UnsafeRawPointer, count: Int) -> UInt64 {
        var p = start
        var sum: UInt64 = 0
        if count & 4 != 0 {
            sum &+= UInt64(p.loadUnaligned(as: UInt32.self))
            p += 4
        }
        if count & 2 != 0 {
            sum &+= UInt64(p.loadUnaligned(as: UInt16.self))
            p += 2
        }
        if count & 1 != 0 {
            sum &+= UInt64(p.load(as: UInt8.self))  // native (little-endian) placement of the odd byte
        }
        return sum
    }

    /// Whether a 64-bit one's-complement sum folds to 0xFFFF (end-around carries down to 16
    /// bits: a right checksum's sum does), without folding. It does exactly when it is a
    /// non-zero multiple of 0xFFFF (2^16 ≡ 1 mod 0xFFFF), and for an odd divisor d, x is a
    /// multiple of d exactly when x times d's inverse mod 2^64 is at most (2^64 - 1) / d: a
    /// multiply and a compare, where the fold took eleven instructions.
    @inline(__always)
    static func foldsToAllOnes(_ value: UInt64) -> Bool {
        value != 0 && value &* inverseOfAllOnes <= multiplesOfAllOnesBound
    }

    /// 0xFFFF's inverse mod 2^64 (0xFFFF times it is 1 mod 2^64).
    @inline(__always) static var inverseOfAllOnes: UInt64 { 0xFFFE_FFFE_FFFE_FFFF }
    /// (2^64 - 1) / 0xFFFF: the largest product `x &* inverseOfAllOnes` of a multiple x of 0xFFFF.
    @inline(__always) static var multiplesOfAllOnesBound: UInt64 { 0x0001_0001_0001_0001 }
}
