import Conntrack
import PacketParsing

/// The match part of a flow: fields, keywords, and the prerequisites between them.
extension LineParser {
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

}
