/// A 128-bit IP address held as two big-endian-ordered halves, so that comparison and prefix
/// matching work on plain integers. IPv4 addresses are stored v4-mapped (`::ffff:a.b.c.d`):
/// `high == 0`, `low == 0x0000_ffff_aabb_ccdd`.
public struct IPAddress: Hashable, Sendable, Comparable {
    /// Bytes 0..<8 of the address, read big-endian.
    public var high: UInt64
    /// Bytes 8..<16 of the address, read big-endian.
    public var low: UInt64

    /// An address from its two halves (bytes 0..<8 and 8..<16, each read big-endian).
    @inlinable
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// An IPv4 address given as a host-order 32-bit value (`0x0a010101` is 10.1.1.1).
    @inlinable
    public init(v4: UInt32) {
        self.high = 0
        self.low = 0x0000_ffff_0000_0000 | UInt64(v4)
    }

    /// The IPv4 address as a host-order value, when this is a v4-mapped address.
    @inlinable
    public var v4: UInt32? {
        (high == 0 && low >> 32 == 0x0000_ffff) ? UInt32(truncatingIfNeeded: low) : nil
    }

    /// `::`, the all-zero address.
    public static let zero = IPAddress(high: 0, low: 0)

    /// Numeric order of the 128-bit values.
    @inlinable
    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }
}

extension IPAddress: CustomStringConvertible {
    /// Dotted quad for v4-mapped addresses, RFC 5952 text for IPv6.
    public var description: String {
        if let v4 {
            return "\(v4 >> 24).\((v4 >> 16) & 0xff).\((v4 >> 8) & 0xff).\(v4 & 0xff)"
        }
        var groups: [UInt16] = []
        for half in [high, low] {
            for shift in stride(from: 48, through: 0, by: -16) {
                groups.append(UInt16(truncatingIfNeeded: half >> UInt64(shift)))
            }
        }
        // Longest run of two or more zero groups becomes "::" (first one on a tie).
        var bestStart = -1, bestLength = 1, runStart = -1
        for i in 0...groups.count {
            if i < groups.count && groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        if bestStart < 0 { return hex.joined(separator: ":") }
        let head = hex[..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }
}
