import Conntrack
import PacketParsing

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

}
