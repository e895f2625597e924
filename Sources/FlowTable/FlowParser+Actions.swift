import Conntrack
import PacketParsing

/// The actions part of a flow: ct(...), output, normal, drop, resubmit.
extension LineParser {
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
