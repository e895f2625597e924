import Conntrack
import PacketParsing

/// Numbers, masks, ct_state flag lists and IPv4/IPv6 addresses with prefixes.
extension LineParser {
    // MARK: Values

    /// A decimal or `0x` hexadecimal number in `0...max`.
    func parseNumber(_ span: Span, max: UInt64, what: String) throws(FlowTableError) -> UInt64 {
        let s = trimmed(span)
        var i = s.start
        var radix: UInt64 = 10
        if s.end - s.start > 2 && bytes[i] == UInt8(ascii: "0") && (bytes[i + 1] | 0x20) == UInt8(ascii: "x") {
            radix = 16
            i += 2
        }
        var value: UInt64 = 0
        var overflow = false
        if i >= s.end {
            throw error(s, "'\(text(s))' is not a number", expected: "a decimal or 0x-prefixed hexadecimal number")
        }
        while i < s.end {
            let b = bytes[i]
            let digit: UInt64
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = UInt64(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: digit = UInt64(b - UInt8(ascii: "A") + 10)
            default:
                throw error(s, "'\(text(s))' is not a number", expected: "a decimal or 0x-prefixed hexadecimal number")
            }
            let (m, o1) = value.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(digit)
            overflow = overflow || o1 || o2
            value = a
            i += 1
        }
        if overflow || value > max {
            throw error(s, "\(what) \(text(s)) is out of range", expected: "0 to \(max)")
        }
        return value
    }

    /// `V` (mask all ones up to `max`) or `V/M`.
    func parseMaskedNumber(_ span: Span, max: UInt64, what: String) throws(FlowTableError) -> (UInt64, UInt64) {
        if let slash = first(UInt8(ascii: "/"), in: span) {
            let value = try parseNumber(Span(start: span.start, end: slash), max: max, what: what)
            let mask = try parseNumber(Span(start: slash + 1, end: span.end), max: max, what: "\(what) mask")
            return (value, mask)
        }
        return (try parseNumber(span, max: max, what: what), max)
    }

    /// `+trk-new+est` (flags: trk new est rel rpl inv snat dnat) or a number `V[/M]`.
    func parseCTState(_ span: Span) throws(FlowTableError) -> (UInt64, UInt64) {
        let first = bytes[span.start]
        if first != UInt8(ascii: "+") && first != UInt8(ascii: "-") {
            if first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") {
                return try parseMaskedNumber(span, max: 0xFF, what: "ct_state")
            }
        }
        var value: UInt8 = 0
        var mask: UInt8 = 0
        var i = span.start
        let names = CTState.printOrder.map(\.1).joined(separator: ", ")
        while i < span.end {
            let sign = bytes[i]
            var j = i + 1
            while j < span.end && bytes[j] != UInt8(ascii: "+") && bytes[j] != UInt8(ascii: "-") { j += 1 }
            let nameSpan = Span(start: sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") ? i + 1 : i, end: j)
            let name = text(nameSpan)
            guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else {
                throw error(nameSpan, "ct_state flag '\(name)' has no sign", expected: "'+' or '-' before each flag")
            }
            guard let flag = CTState.printOrder.first(where: { $0.1 == name })?.0 else {
                throw error(nameSpan, "unknown ct_state flag '\(name)'", expected: names)
            }
            if mask & flag.rawValue != 0 {
                throw error(Span(start: i, end: j), "ct_state flag '\(name)' given twice", expected: "each flag once")
            }
            mask |= flag.rawValue
            if sign == UInt8(ascii: "+") { value |= flag.rawValue }
            i = j
        }
        return (UInt64(value), UInt64(mask))
    }

    func parseIPv4(_ span: Span) -> UInt32? {
        let parts = text(span).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let byte = UInt32(part), byte <= 255 else { return nil }
            value = value << 8 | byte
        }
        return value
    }

    /// `a.b.c.d`, `a.b.c.d/N` (N in 0...32) or `a.b.c.d/m.m.m.m`.
    func parseIPv4Field(_ span: Span) throws(FlowTableError) -> (UInt32, UInt32) {
        let slash = first(UInt8(ascii: "/"), in: span)
        let addressSpan = Span(start: span.start, end: slash ?? span.end)
        guard let address = parseIPv4(addressSpan) else {
            throw error(addressSpan, "'\(text(addressSpan))' is not an IPv4 address", expected: "a.b.c.d")
        }
        guard let slash else { return (address, .max) }
        let maskSpan = Span(start: slash + 1, end: span.end)
        if let mask = parseIPv4(maskSpan) { return (address, mask) }
        guard !maskSpan.isEmpty, bytes[maskSpan.start..<maskSpan.end].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              maskSpan.end - maskSpan.start <= 3, let length = Int(text(maskSpan)), length <= 32 else {
            throw error(maskSpan, "bad prefix length '\(text(maskSpan))'", expected: "0 to 32 or a dotted netmask")
        }
        return (address, length == 0 ? 0 : UInt32.max << UInt32(32 - length))
    }

    func parseIPv6(_ span: Span) -> IPAddress? {
        let s = text(span)
        func groups(_ part: Substring, allowV4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (n, piece) in pieces.enumerated() {
                if allowV4 && n == pieces.count - 1 && piece.contains(".") {
                    let v4Parts = piece.split(separator: ".", omittingEmptySubsequences: false)
                    guard v4Parts.count == 4 else { return nil }
                    var v: UInt32 = 0
                    for p in v4Parts {
                        guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }),
                              let b = UInt32(p), b <= 255 else { return nil }
                        v = v << 8 | b
                    }
                    out.append(UInt16(v >> 16))
                    out.append(UInt16(v & 0xFFFF))
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy({ $0.isHexDigit }),
                          let g = UInt16(piece, radix: 16) else { return nil }
                    out.append(g)
                }
            }
            return out
        }
        var all: [UInt16]
        if let range = s.firstRange(of: "::") {
            let head = s[s.startIndex..<range.lowerBound]
            let tail = s[range.upperBound...]
            guard !tail.contains("::"), let h = groups(head, allowV4: false), let t = groups(tail, allowV4: true),
                  h.count + t.count <= 7 else { return nil }
            all = h + [UInt16](repeating: 0, count: 8 - h.count - t.count) + t
        } else {
            guard let g = groups(Substring(s), allowV4: true), g.count == 8 else { return nil }
            all = g
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<4 { high = high << 16 | UInt64(all[i]) }
        for i in 4..<8 { low = low << 16 | UInt64(all[i]) }
        return IPAddress(high: high, low: low)
    }

    /// `addr`, `addr/N` (N in 0...128) or `addr/mask`.
    func parseIPv6Field(_ span: Span) throws(FlowTableError) -> (IPAddress, IPAddress) {
        let slash = first(UInt8(ascii: "/"), in: span)
        let addressSpan = Span(start: span.start, end: slash ?? span.end)
        guard let address = parseIPv6(addressSpan) else {
            throw error(addressSpan, "'\(text(addressSpan))' is not an IPv6 address", expected: "an RFC 4291 address such as 2001:db8::1")
        }
        let ones = IPAddress(high: .max, low: .max)
        guard let slash else { return (address, ones) }
        let maskSpan = Span(start: slash + 1, end: span.end)
        if first(UInt8(ascii: ":"), in: maskSpan) != nil, let mask = parseIPv6(maskSpan) { return (address, mask) }
        guard !maskSpan.isEmpty, bytes[maskSpan.start..<maskSpan.end].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              maskSpan.end - maskSpan.start <= 3, let length = Int(text(maskSpan)), length <= 128 else {
            throw error(maskSpan, "bad prefix length '\(text(maskSpan))'", expected: "0 to 128 or an IPv6 mask")
        }
        return (address, LineParser.prefixMask128(length))
    }

    static func prefixMask128(_ length: Int) -> IPAddress {
        func bits(_ n: Int) -> UInt64 { n <= 0 ? 0 : n >= 64 ? .max : UInt64.max << UInt64(64 - n) }
        return IPAddress(high: bits(length), low: bits(length - 64))
    }

}
