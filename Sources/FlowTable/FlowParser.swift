import Conntrack
import PacketParsing

/// A flow file that does not parse: where (1-based line and column, columns counted in
/// Unicode scalars), the offending text, what is wrong and what was expected.
public struct FlowTableError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    /// The offending text (a field, a value, an action or an argument).
    public var text: String
    /// What is wrong, e.g. `unknown field 'nw_sorc'`.
    public var message: String
    /// What was expected there, when it can be said.
    public var expected: String?

    public init(line: Int, column: Int, text: String, message: String, expected: String? = nil) {
        self.line = line
        self.column = column
        self.text = text
        self.message = message
        self.expected = expected
    }

    /// `line 3, column 14: unknown field 'nw_sorc' (expected one of ...)`.
    public var description: String {
        "line \(line), column \(column): \(message)" + (expected.map { " (expected \($0))" } ?? "")
    }
}

/// The flow language: one flow per line, `#` starts a comment, blank lines are ignored.
///
/// A flow is comma-separated match fields (`name=value` or a bare protocol keyword) followed by
/// `actions=` (or `action=`), after which the rest of the line is the action list. Fields may
/// come in any order; prerequisites (a protocol for `tp_src`, a family for addresses) are
/// checked once the whole match is read. A field given twice must agree with itself (`ip,tcp`
/// is fine, `tcp,udp` is a conflict). Tests/FlowTableTests/ParserTests.swift exercises every construct.
///
/// Parsing is all-or-nothing: the first error fails the whole file.
public enum FlowParser {
    /// Parses a flow file.
    public static func parse(_ text: String) throws(FlowTableError) -> [Flow] {
        var flows: [Flow] = []
        var number = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = LineParser(bytes: Array(rawLine.utf8), number: number)
            if let flow = try line.parseFlow() { flows.append(flow) }
        }
        return flows
    }

    /// Parses one flow (one line, comments allowed); `lineNumber` is used in errors.
    public static func parseFlow(_ text: String, lineNumber: Int = 1) throws(FlowTableError) -> Flow {
        var line = LineParser(bytes: Array(text.utf8), number: lineNumber)
        guard let flow = try line.parseFlow() else {
            throw FlowTableError(line: lineNumber, column: 1, text: text, message: "no flow on this line",
                                 expected: "match fields and actions=...")
        }
        return flow
    }

    /// Names accepted as match fields and keywords, for error messages.
    static let fieldNames = [
        "priority", "table", "in_port", "dl_type", "nw_proto", "nw_src", "nw_dst", "ipv6_src", "ipv6_dst",
        "tp_src", "tp_dst", "ct_state", "conn_state", "ct_zone", "ct_mark",
        "ip", "ipv6", "arp", "tcp", "udp", "icmp", "tcp6", "udp6", "icmp6", "actions",
    ]

    /// Largest port number accepted (OpenFlow 1.0's OFPP_MAX is 0xff00).
    static let maxPort: UInt64 = 0xFEFF
    /// Largest table number (255 is reserved by OpenFlow).
    static let maxTable: UInt64 = 254
}

/// A half-open byte range of the current line.
struct Span: Equatable {
    var start: Int
    var end: Int
    var isEmpty: Bool { start >= end }
}

/// The match fields a flow sets, for conflict and prerequisite checks.
enum MatchField: Int, CaseIterable {
    case priority, table, inPort, dlType, nwProto, nwSrc, nwDst, ipv6Src, ipv6Dst, tpSrc, tpDst
    case ctState, ctZone, ctMark

    var name: String {
        switch self {
        case .priority: "priority"
        case .table: "table"
        case .inPort: "in_port"
        case .dlType: "dl_type"
        case .nwProto: "nw_proto"
        case .nwSrc: "nw_src"
        case .nwDst: "nw_dst"
        case .ipv6Src: "ipv6_src"
        case .ipv6Dst: "ipv6_dst"
        case .tpSrc: "tp_src"
        case .tpDst: "tp_dst"
        case .ctState: "ct_state"
        case .ctZone: "ct_zone"
        case .ctMark: "ct_mark"
        }
    }
}

/// One field's value and mask (128 bits each: addresses need them all) and the token that set it.
struct FieldSetting {
    var valueHigh: UInt64 = 0
    var value: UInt64
    var maskHigh: UInt64 = 0
    var mask: UInt64
    var token: String
    var span: Span
}

struct LineParser {
    let bytes: [UInt8]
    let number: Int
    var settings: [MatchField: FieldSetting] = [:]

    init(bytes: [UInt8], number: Int) {
        var bytes = bytes
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        self.bytes = bytes
        self.number = number
    }

    // MARK: Text helpers

    func column(_ offset: Int) -> Int {
        var column = 1
        var i = 0
        while i < offset && i < bytes.count {
            if bytes[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return column
    }

    func text(_ span: Span) -> String {
        String(decoding: bytes[span.start..<max(span.start, span.end)], as: UTF8.self)
    }

    func error(_ span: Span, _ message: String, expected: String? = nil) -> FlowTableError {
        FlowTableError(line: number, column: column(span.start), text: text(span), message: message,
                       expected: expected)
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    func trimmed(_ span: Span) -> Span {
        var s = span
        while s.start < s.end && LineParser.isSpace(bytes[s.start]) { s.start += 1 }
        while s.end > s.start && LineParser.isSpace(bytes[s.end - 1]) { s.end -= 1 }
        return s
    }

    func first(_ byte: UInt8, in span: Span) -> Int? {
        var i = span.start
        while i < span.end {
            if bytes[i] == byte { return i }
            i += 1
        }
        return nil
    }

    /// Splits at commas outside parentheses; checks that parentheses balance.
    func splitTopLevel(_ span: Span) throws(FlowTableError) -> [Span] {
        var parts: [Span] = []
        var openings: [Int] = []
        var start = span.start
        var i = span.start
        while i < span.end {
            switch bytes[i] {
            case UInt8(ascii: "("): openings.append(i)
            case UInt8(ascii: ")"):
                if openings.popLast() == nil {
                    throw error(Span(start: i, end: i + 1), "unbalanced parentheses: ')' without '('")
                }
            case UInt8(ascii: ",") where openings.isEmpty:
                parts.append(Span(start: start, end: i))
                start = i + 1
            default: break
            }
            i += 1
        }
        if let open = openings.first {
            throw error(Span(start: open, end: span.end), "unbalanced parentheses: '(' is never closed",
                        expected: "')'")
        }
        parts.append(Span(start: start, end: span.end))
        return parts
    }

    // MARK: Flow

    mutating func parseFlow() throws(FlowTableError) -> Flow? {
        var lineSpan = Span(start: 0, end: first(UInt8(ascii: "#"), in: Span(start: 0, end: bytes.count)) ?? bytes.count)
        lineSpan = trimmed(lineSpan)
        if lineSpan.isEmpty { return nil }

        // Match items up to `actions=`, which takes the rest of the line.
        var items: [Span] = []
        var actionSpan: Span?
        var pos = lineSpan.start
        while pos <= lineSpan.end {
            let rest = Span(start: pos, end: lineSpan.end)
            let item = trimmed(Span(start: pos, end: nextTopLevelComma(rest) ?? lineSpan.end))
            if let equals = first(UInt8(ascii: "="), in: item) {
                let key = text(trimmed(Span(start: item.start, end: equals)))
                if key == "actions" || key == "action" {
                    actionSpan = Span(start: equals + 1, end: lineSpan.end)
                    break
                }
            }
            if item.isEmpty {
                throw error(Span(start: item.start, end: item.start), "empty field",
                            expected: "a match field or actions=... between commas")
            }
            items.append(item)
            pos = (nextTopLevelComma(rest) ?? lineSpan.end) + 1
        }
        for item in items { try parseMatchItem(item) }
        guard let actionSpan else {
            throw error(Span(start: lineSpan.end, end: lineSpan.end), "missing actions",
                        expected: "'actions=...' after the match fields")
        }
        try checkPrerequisites()
        let actions = try parseActions(actionSpan)
        return Flow(table: UInt8(settings[.table]?.value ?? 0),
                    priority: UInt16(settings[.priority]?.value ?? UInt64(Flow.defaultPriority)),
                    match: buildMatch(), actions: actions)
    }

    /// The next comma in `span` (match fields hold no parentheses: a stray one fails as a bad value).
    func nextTopLevelComma(_ span: Span) -> Int? {
        first(UInt8(ascii: ","), in: span)
    }

    func buildMatch() -> FlowMatch {
        var value = MatchKey()
        var mask = MatchKey()
        for (field, s) in settings {
            switch field {
            case .priority, .table: break
            case .inPort: value.inPort = UInt32(s.value); mask.inPort = UInt32(s.mask)
            case .dlType: value.dlType = UInt16(s.value); mask.dlType = UInt16(s.mask)
            case .nwProto: value.nwProto = UInt8(s.value); mask.nwProto = UInt8(s.mask)
            case .nwSrc, .ipv6Src:
                value.src = IPAddress(high: s.valueHigh, low: s.value)
                mask.src = IPAddress(high: s.maskHigh, low: s.mask)
            case .nwDst, .ipv6Dst:
                value.dst = IPAddress(high: s.valueHigh, low: s.value)
                mask.dst = IPAddress(high: s.maskHigh, low: s.mask)
            case .tpSrc: value.tpSrc = UInt16(s.value); mask.tpSrc = UInt16(s.mask)
            case .tpDst: value.tpDst = UInt16(s.value); mask.tpDst = UInt16(s.mask)
            case .ctState:
                value.ctState = CTState(rawValue: UInt8(s.value))
                mask.ctState = CTState(rawValue: UInt8(s.mask))
            case .ctZone: value.ctZone = UInt16(s.value); mask.ctZone = UInt16(s.mask)
            case .ctMark: value.ctMark = UInt32(s.value); mask.ctMark = UInt32(s.mask)
            }
        }
        return FlowMatch(value: value, mask: mask)
    }

    // MARK: Match fields

    mutating func set(_ field: MatchField, _ setting: FieldSetting) throws(FlowTableError) {
        if let old = settings[field] {
            if old.value != setting.value || old.mask != setting.mask || old.valueHigh != setting.valueHigh
                || old.maskHigh != setting.maskHigh {
                throw error(setting.span,
                            "'\(setting.token)' conflicts with '\(old.token)' at column \(column(old.span.start)) (both set \(field.name))")
            }
            return
        }
        settings[field] = setting
    }

    mutating func setExact(_ field: MatchField, _ value: UInt64, width: Int, token: String, span: Span) throws(FlowTableError) {
        let mask: UInt64 = width == 64 ? .max : (1 << UInt64(width)) - 1
        try set(field, FieldSetting(value: value, mask: mask, token: token, span: span))
    }

    mutating func parseMatchItem(_ item: Span) throws(FlowTableError) {
        let token = text(item)
        guard let equals = first(UInt8(ascii: "="), in: item) else {
            try parseKeyword(token, span: item)
            return
        }
        let nameSpan = trimmed(Span(start: item.start, end: equals))
        let valueSpan = trimmed(Span(start: equals + 1, end: item.end))
        let name = text(nameSpan)
        if valueSpan.isEmpty, FlowParser.fieldNames.contains(name) {
            throw error(valueSpan, "'\(token)': missing value", expected: "a value after '='")
        }
        switch name {
        case "priority":
            try setExact(.priority, parseNumber(valueSpan, max: 0xFFFF, what: "priority"), width: 16, token: token, span: item)
        case "table":
            try setExact(.table, parseNumber(valueSpan, max: FlowParser.maxTable, what: "table"), width: 8, token: token, span: item)
        case "in_port":
            try setExact(.inPort, parseNumber(valueSpan, max: FlowParser.maxPort, what: "in_port"), width: 32, token: token, span: item)
        case "dl_type":
            try setExact(.dlType, parseNumber(valueSpan, max: 0xFFFF, what: "dl_type"), width: 16, token: token, span: item)
        case "nw_proto":
            try setExact(.nwProto, parseNumber(valueSpan, max: 0xFF, what: "nw_proto"), width: 8, token: token, span: item)
        case "tp_src", "tp_dst":
            let (value, mask) = try parseMaskedNumber(valueSpan, max: 0xFFFF, what: name)
            try set(name == "tp_src" ? .tpSrc : .tpDst, FieldSetting(value: value & mask, mask: mask, token: token, span: item))
        case "ct_zone":
            try setExact(.ctZone, parseNumber(valueSpan, max: 0xFFFF, what: "ct_zone"), width: 16, token: token, span: item)
        case "ct_mark":
            let (value, mask) = try parseMaskedNumber(valueSpan, max: 0xFFFF_FFFF, what: "ct_mark")
            try set(.ctMark, FieldSetting(value: value & mask, mask: mask, token: token, span: item))
        case "ct_state", "conn_state":
            let (value, mask) = try parseCTState(valueSpan)
            try set(.ctState, FieldSetting(value: value & mask, mask: mask, token: token, span: item))
        case "nw_src", "nw_dst":
            let (value, mask) = try parseIPv4Field(valueSpan)
            try set(name == "nw_src" ? .nwSrc : .nwDst,
                    FieldSetting(value: (0x0000_FFFF_0000_0000 | UInt64(value)) & UInt64(mask), mask: UInt64(mask),
                                 token: token, span: item))
        case "ipv6_src", "ipv6_dst":
            let (value, mask) = try parseIPv6Field(valueSpan)
            try set(name == "ipv6_src" ? .ipv6Src : .ipv6Dst,
                    FieldSetting(valueHigh: value.high & mask.high, value: value.low & mask.low,
                                 maskHigh: mask.high, mask: mask.low, token: token, span: item))
        default:
            throw error(nameSpan, "unknown field '\(name)'",
                        expected: "one of " + FlowParser.fieldNames.joined(separator: ", "))
        }
    }

    mutating func parseKeyword(_ token: String, span: Span) throws(FlowTableError) {
        let families: [String: (UInt16, UInt8?)] = [
            "ip": (EtherType.ipv4, nil), "ipv6": (EtherType.ipv6, nil), "arp": (EtherType.arp, nil),
            "tcp": (EtherType.ipv4, IPProtocol.tcp), "udp": (EtherType.ipv4, IPProtocol.udp),
            "icmp": (EtherType.ipv4, IPProtocol.icmp),
            "tcp6": (EtherType.ipv6, IPProtocol.tcp), "udp6": (EtherType.ipv6, IPProtocol.udp),
            "icmp6": (EtherType.ipv6, IPProtocol.icmpv6),
        ]
        guard let (dlType, proto) = families[token] else {
            if FlowParser.fieldNames.contains(token) {
                throw error(span, "'\(token)' needs a value", expected: "\(token)=VALUE")
            }
            throw error(span, "unknown field '\(token)'",
                        expected: "one of " + FlowParser.fieldNames.joined(separator: ", "))
        }
        try setExact(.dlType, UInt64(dlType), width: 16, token: token, span: span)
        if let proto { try setExact(.nwProto, UInt64(proto), width: 8, token: token, span: span) }
    }

    /// Prerequisites, checked in column order once every field is known.
    func checkPrerequisites() throws(FlowTableError) {
        let dlType = settings[.dlType]
        let nwProto = settings[.nwProto]
        let dlName = { (s: FieldSetting) in "'\(s.token)' at column \(column(s.span.start))" }
        for (field, s) in settings.sorted(by: { $0.value.span.start < $1.value.span.start }) {
            switch field {
            case .nwProto:
                guard let dlType, dlType.value == UInt64(EtherType.ipv4) || dlType.value == UInt64(EtherType.ipv6) else {
                    throw error(s.span, "'\(s.token)' needs an IP flow",
                                expected: "ip, ipv6 or dl_type=0x0800 or 0x86dd in the flow")
                }
            case .nwSrc, .nwDst:
                guard let dlType else {
                    throw error(s.span, "'\(s.token)' needs an IPv4 flow",
                                expected: "ip, tcp, udp, icmp or dl_type=0x0800 in the flow")
                }
                if dlType.value != UInt64(EtherType.ipv4) {
                    throw error(s.span, "'\(s.token)' is an IPv4 field but \(dlName(dlType)) makes the flow "
                                + (dlType.value == UInt64(EtherType.ipv6) ? "IPv6" : "non-IPv4"),
                                expected: "ip, tcp, udp, icmp or dl_type=0x0800")
                }
            case .ipv6Src, .ipv6Dst:
                guard let dlType else {
                    throw error(s.span, "'\(s.token)' needs an IPv6 flow",
                                expected: "ipv6, tcp6, udp6, icmp6 or dl_type=0x86dd in the flow")
                }
                if dlType.value != UInt64(EtherType.ipv6) {
                    throw error(s.span, "'\(s.token)' is an IPv6 field but \(dlName(dlType)) makes the flow "
                                + (dlType.value == UInt64(EtherType.ipv4) ? "IPv4" : "non-IPv6"),
                                expected: "ipv6, tcp6, udp6, icmp6 or dl_type=0x86dd")
                }
            case .tpSrc, .tpDst:
                guard let nwProto else {
                    throw error(s.span, "'\(s.token)' needs a transport protocol",
                                expected: "tcp, udp, tcp6, udp6 or nw_proto=6, 17 or 132 in the flow")
                }
                if ![IPProtocol.tcp, IPProtocol.udp, IPProtocol.sctp].contains(UInt8(nwProto.value)) {
                    throw error(s.span, "'\(s.token)' needs TCP, UDP or SCTP but \(dlName(nwProto)) sets nw_proto=\(nwProto.value)",
                                expected: "tcp, udp, tcp6, udp6 or nw_proto=6, 17 or 132")
                }
            default: break
            }
        }
    }

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

    // MARK: Actions

    func parseActions(_ span: Span) throws(FlowTableError) -> [FlowAction] {
        let list = trimmed(span)
        if list.isEmpty { return [] }
        let items = try splitTopLevel(list)
        var actions: [FlowAction] = []
        for (n, raw) in items.enumerated() {
            let item = trimmed(raw)
            if item.isEmpty {
                throw error(item, "empty action", expected: "an action between commas")
            }
            if let last = actions.last, case .ct(let spec) = last, spec.recirculates {
                throw error(item, "'\(text(item))': no action may follow a recirculating ct(...)",
                            expected: "ct(recirc) or ct(table=N) last in the list")
            }
            let action = try parseAction(item)
            if action == .drop && items.count > 1 {
                throw error(item, "'drop' must be the only action", expected: n == 0 ? "nothing after drop" : "no other action with drop")
            }
            actions.append(action)
        }
        return actions
    }

    static let actionList = "output:PORT, PORT, normal, drop, resubmit(,TABLE) or ct(...)"

    func parseAction(_ item: Span) throws(FlowTableError) -> FlowAction {
        let whole = text(item)
        var nameEnd = item.start
        while nameEnd < item.end, ![UInt8(ascii: "("), UInt8(ascii: ":"), UInt8(ascii: "=")].contains(bytes[nameEnd]) {
            nameEnd += 1
        }
        let nameSpan = Span(start: item.start, end: nameEnd)
        let name = text(trimmed(nameSpan)).lowercased()
        let hasArgument = nameEnd < item.end
        if !hasArgument && !name.isEmpty && name.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return .output(Int(try parseNumber(item, max: FlowParser.maxPort, what: "output port")))
        }
        switch (name, hasArgument ? bytes[nameEnd] : 0) {
        case ("drop", 0): return .drop
        case ("normal", 0): return .normal
        case ("output", UInt8(ascii: ":")):
            return .output(Int(try parseNumber(Span(start: nameEnd + 1, end: item.end), max: FlowParser.maxPort,
                                               what: "output port")))
        case ("resubmit", UInt8(ascii: ":")):
            return .resubmit(table: UInt8(try parseNumber(Span(start: nameEnd + 1, end: item.end),
                                                          max: FlowParser.maxTable, what: "table")))
        case ("resubmit", UInt8(ascii: "(")):
            let inner = try parenthesised(item, open: nameEnd, action: whole)
            guard let comma = first(UInt8(ascii: ","), in: inner) else {
                throw error(inner, "'\(whole)': resubmit to a port is not supported", expected: "resubmit(,TABLE)")
            }
            let port = trimmed(Span(start: inner.start, end: comma))
            if !port.isEmpty {
                throw error(port, "'\(whole)': resubmit to a port is not supported", expected: "resubmit(,TABLE)")
            }
            return .resubmit(table: UInt8(try parseNumber(Span(start: comma + 1, end: inner.end),
                                                          max: FlowParser.maxTable, what: "table")))
        case ("ct", UInt8(ascii: "(")):
            return .ct(try parseCT(item, open: nameEnd))
        default:
            throw error(item, "unknown action '\(whole)'", expected: LineParser.actionList)
        }
    }

    /// The span inside `name(...)`, which must close at the end of `item`.
    func parenthesised(_ item: Span, open: Int, action: String) throws(FlowTableError) -> Span {
        guard bytes[item.end - 1] == UInt8(ascii: ")") else {
            throw error(Span(start: open, end: item.end), "'\(action)': text after the closing ')'",
                        expected: "the action to end with ')'")
        }
        // The ')' at the end must close the '(' at `open` (balance was checked for the list).
        var depth = 0
        var i = open
        while i < item.end - 1 {
            if bytes[i] == UInt8(ascii: "(") { depth += 1 }
            if bytes[i] == UInt8(ascii: ")") {
                depth -= 1
                if depth == 0 {
                    throw error(Span(start: i + 1, end: item.end), "'\(action)': text after the closing ')'",
                                expected: "the action to end with ')'")
                }
            }
            i += 1
        }
        return Span(start: open + 1, end: item.end - 1)
    }

    static let ctArguments = "commit, recirc, table=N, zone=N, alg=ftp|tftp or exec(set_field:V[/M]->ct_mark)"

    func parseCT(_ item: Span, open: Int) throws(FlowTableError) -> CTSpec {
        let whole = text(item)
        let inner = try parenthesised(item, open: open, action: whole)
        var spec = CTSpec()
        var recirculationSet: Span?
        var execSpan: Span?
        if trimmed(inner).isEmpty { return spec }
        for raw in try splitTopLevel(inner) {
            let arg = trimmed(raw)
            let argText = text(arg)
            if arg.isEmpty { throw error(arg, "'\(whole)': empty argument", expected: LineParser.ctArguments) }
            let equals = first(UInt8(ascii: "="), in: arg)
            let paren = first(UInt8(ascii: "("), in: arg)
            let key = text(trimmed(Span(start: arg.start, end: min(equals ?? arg.end, paren ?? arg.end))))
            let value = Span(start: (equals ?? arg.end) + 1, end: arg.end)
            switch (key, equals != nil && (paren == nil || equals! < paren!)) {
            case ("commit", false) where paren == nil:
                spec.commit = true
            case ("recirc", false) where paren == nil, ("table", true):
                if let previous = recirculationSet {
                    throw error(arg, "'\(whole)': '\(argText)' conflicts with '\(text(previous))'",
                                expected: "one of recirc or table=N")
                }
                recirculationSet = arg
                spec.recirculation = key == "recirc"
                    ? .sameTable
                    : .table(UInt8(try parseNumber(trimmed(value), max: FlowParser.maxTable, what: "table")))
            case ("zone", true):
                spec.zone = UInt16(try parseNumber(trimmed(value), max: 0xFFFF, what: "zone"))
            case ("alg", true):
                let algSpan = trimmed(value)
                let name = text(algSpan)
                guard let alg = ALGKind(name: name), alg != .none else {
                    throw error(algSpan, "'\(whole)': unknown ALG '\(name)'", expected: "ftp or tftp")
                }
                spec.alg = alg
            case ("exec", false) where paren != nil:
                execSpan = arg
                try parseExec(arg, open: paren!, whole: whole, into: &spec)
            case ("nat", _):
                throw error(arg, "'\(whole)': nat is not supported", expected: LineParser.ctArguments)
            default:
                throw error(arg, "'\(whole)': unknown ct argument '\(argText)'", expected: LineParser.ctArguments)
            }
        }
        if let execSpan, !spec.commit {
            throw error(execSpan, "'\(whole)': exec(...) needs commit", expected: "ct(commit, exec(...))")
        }
        return spec
    }

    func parseExec(_ arg: Span, open: Int, whole: String, into spec: inout CTSpec) throws(FlowTableError) {
        let inner = try parenthesised(arg, open: open, action: whole)
        for raw in try splitTopLevel(inner) {
            let item = trimmed(raw)
            let itemText = text(item)
            let prefix = "set_field:"
            guard itemText.hasPrefix(prefix), let arrow = itemText.firstRange(of: "->") else {
                throw error(item, "'\(whole)': unsupported exec action '\(itemText)'",
                            expected: "set_field:V[/M]->ct_mark or set_field:V->ct_label")
            }
            let valueStart = item.start + prefix.utf8.count
            let arrowOffset = item.start + itemText.utf8.distance(from: itemText.startIndex, to: arrow.lowerBound)
            let valueSpan = Span(start: valueStart, end: arrowOffset)
            let target = String(itemText[arrow.upperBound...]).filter { $0 != " " }
            switch target {
            case "ct_mark":
                let (value, mask) = try parseMaskedNumber(valueSpan, max: 0xFFFF_FFFF, what: "ct_mark")
                spec.mark = UInt32(value & mask)
                spec.markMask = UInt32(mask)
            case "ct_label":
                if first(UInt8(ascii: "/"), in: valueSpan) != nil {
                    throw error(valueSpan, "'\(whole)': a ct_label mask is not supported", expected: "set_field:V->ct_label")
                }
                spec.label = try parseLabel(trimmed(valueSpan))
            default:
                throw error(Span(start: arrowOffset + 2, end: item.end), "'\(whole)': unsupported set_field target '\(target)'",
                            expected: "ct_mark or ct_label")
            }
        }
    }

    /// A 128-bit label: `0x` and up to 32 hex digits, or a decimal 64-bit number.
    func parseLabel(_ span: Span) throws(FlowTableError) -> CTLabel {
        let s = text(span)
        if s.hasPrefix("0x") || s.hasPrefix("0X") {
            let digits = s.dropFirst(2)
            guard (1...32).contains(digits.count), digits.allSatisfy({ $0.isHexDigit }) else {
                throw error(span, "ct_label '\(s)' is not a 128-bit number", expected: "0x and 1 to 32 hex digits")
            }
            let split = max(0, digits.count - 16)
            let high = split == 0 ? 0 : UInt64(digits.prefix(split), radix: 16)!
            let low = UInt64(digits.dropFirst(split), radix: 16)!
            return CTLabel(high: high, low: low)
        }
        return CTLabel(high: 0, low: try parseNumber(span, max: .max, what: "ct_label"))
    }
}
