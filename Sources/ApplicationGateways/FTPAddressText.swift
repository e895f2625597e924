import PacketParsing

/// Parsers for the textual addresses in EPRT: an IPv4 dotted quad and IPv6 text (RFC 4291
/// section 2.2: groups of 1-4 hex digits, one optional `::`, an optional dotted-quad tail).
/// Stdlib only, no allocation.
enum FTPAddressText {
    enum Failure: Error { case malformed, octetOutOfRange }

    /// Parses exactly `a.b.c.d` (1-3 decimal digits per part) filling `start..<end`; returns
    /// the host-order value.
    static func parseDottedQuad(
        _ p: UnsafeRawBufferPointer, from start: Int, to end: Int
    ) -> Result<UInt32, Failure> {
        var value: UInt32 = 0
        var i = start
        for part in 0..<4 {
            if part > 0 {
                guard i < end, p[i] == ASCII.dot else { return .failure(.malformed) }
                i += 1
            }
            let run = p.scanDecimal(from: i, to: end)
            guard !run.isEmpty, !run.overflow, run.end - i <= 3 else { return .failure(.malformed) }
            guard run.value <= 255 else { return .failure(.octetOutOfRange) }
            value = value << 8 | run.value
            i = run.end
        }
        return i == end ? .success(value) : .failure(.malformed)
    }

    /// Parses IPv6 text filling `start..<end`: full form, `::` compression, and an embedded
    /// dotted-quad tail (`::ffff:192.0.2.1`). A dotted quad alone is not IPv6 text.
    static func parseIPv6(_ p: UnsafeRawBufferPointer, from start: Int, to end: Int) -> IPAddress? {
        // Groups before "::" accumulate in `head`, groups after it in `tail`; the gap between
        // them is the compressed run of zero groups.
        var head: UInt128 = 0, headCount = 0
        var tail: UInt128 = 0, tailCount = 0
        var compressed = false
        var i = start
        guard end - start >= 2, end - start <= 45 else { return nil }

        if p[i] == ASCII.colon {
            // Only "::" may start the text.
            guard p[i + 1] == ASCII.colon else { return nil }
            compressed = true
            i += 2
        }
        while i < end {
            // One group, or the dotted-quad tail.
            var j = i
            var group: UInt128 = 0
            while j < end, j - i < 5, let h = ASCII.hexValue(p[j]) {
                group = group << 4 | UInt128(h)
                j += 1
            }
            if j < end, p[j] == ASCII.dot {
                guard case .success(let v4) = parseDottedQuad(p, from: i, to: end) else { return nil }
                if compressed {
                    tail = tail << 32 | UInt128(v4); tailCount += 2
                } else {
                    head = head << 32 | UInt128(v4); headCount += 2
                }
                i = end
                break
            }
            guard j > i, j - i <= 4 else { return nil }
            if compressed {
                tail = tail << 16 | group; tailCount += 1
            } else {
                head = head << 16 | group; headCount += 1
            }
            guard headCount + tailCount <= 8 else { return nil }
            if j == end { i = end; break }
            guard p[j] == ASCII.colon else { return nil }
            j += 1
            if j < end, p[j] == ASCII.colon {
                guard !compressed else { return nil }  // a second "::"
                compressed = true
                j += 1
            } else if j == end {
                return nil  // a single trailing ':'
            }
            i = j
        }
        let groups = headCount + tailCount
        if compressed {
            guard groups <= 7 else { return nil }
        } else {
            guard groups == 8 else { return nil }
        }
        let value = headCount == 0 ? tail : (head << UInt128(16 * (8 - headCount))) | tail
        return IPAddress(high: UInt64(truncatingIfNeeded: value >> 64), low: UInt64(truncatingIfNeeded: value))
    }
}
