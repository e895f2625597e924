import PacketParsing

/// RFC 1071 Internet checksum helpers.
enum Checksum {
    /// Adds the big-endian 16-bit words of `bytes[range]` to `acc` (odd tail padded with zero).
    static func sum(_ bytes: [UInt8], _ range: Range<Int>, into acc: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { raw in
            var s = acc
            var i = range.lowerBound
            while i + 1 < range.upperBound {
                s &+= UInt64(raw[i]) << 8 | UInt64(raw[i + 1])
                i += 2
            }
            if i < range.upperBound { s &+= UInt64(raw[i]) << 8 }
            return s
        }
    }

    /// Folds a sum to 16 bits and complements it.
    static func finish(_ sum: UInt64) -> UInt16 {
        var s = sum
        while s >> 16 != 0 { s = (s & 0xffff) + (s >> 16) }
        return ~UInt16(s)
    }

    /// The pseudo-header sum for TCP/UDP/ICMPv6 (v4 and v6 forms add up alike).
    static func pseudoHeader(src: IPAddress, dst: IPAddress, proto: UInt8, length: Int) -> UInt64 {
        addressSum(src) + addressSum(dst) + UInt64(proto) + UInt64(length >> 16) + UInt64(length & 0xffff)
    }

    static func addressSum(_ a: IPAddress) -> UInt64 {
        if let v4 = a.v4 { return UInt64(v4 >> 16) + UInt64(v4 & 0xffff) }
        var s: UInt64 = 0
        for half in [a.high, a.low] {
            for shift in stride(from: 0, to: 64, by: 16) { s += (half >> UInt64(shift)) & 0xffff }
        }
        return s
    }
}
