import PacketParsing

/// Which OpenFlow port a captured packet came in on (`in_port`): a trace has no ports, so they
/// come from rules (`ctbench --in-port`). Owns the rules; the first that matches wins, and a
/// packet no rule matches comes in on `defaultPort` (1).
///
/// Text form, comma-separated `PORT=WHAT`:
/// - `1=10.1.1.1/32`, `2=10.1.1.0/255.255.255.0`, `3=2001:db8::/64`: the packet's source
///   address is in the prefix (no prefix: the address alone). ARP frames use the sender
///   protocol address; other non-IP frames and packets malformed at IP have no address.
/// - `4=if1`: the frame was captured on pcapng interface 1 (classic pcap: interface 0).
public struct InPortMap: Sendable, Equatable {
    /// One rule: a source prefix (IPv4 stored v4-mapped, its mask covering the mapping bits too,
    /// so that it never matches an IPv6 address) or a capture interface.
    public enum Rule: Sendable, Equatable {
        case source(address: IPAddress, mask: IPAddress, port: UInt32)
        case interface(id: UInt32, port: UInt32)
    }

    public var rules: [Rule]
    public var defaultPort: UInt32

    /// No rules: every packet on `defaultPort`.
    public init(rules: [Rule] = [], defaultPort: UInt32 = 1) {
        self.rules = rules
        self.defaultPort = defaultPort
    }

    /// The port of a packet with this source address (nil: none) captured on `interfaceID`.
    @inlinable
    public func port(source: IPAddress?, interfaceID: UInt32) -> UInt32 {
        for rule in rules {
            switch rule {
            case .source(let address, let mask, let port):
                if let source, source.high & mask.high == address.high, source.low & mask.low == address.low {
                    return port
                }
            case .interface(let id, let port):
                if id == interfaceID { return port }
            }
        }
        return defaultPort
    }

    /// Whether some rule looks at the capture interface.
    public var usesInterfaces: Bool {
        rules.contains { if case .interface = $0 { true } else { false } }
    }

    /// Parses the text form (see the type's comment). Errors name the column in `text`.
    public static func parse(_ text: String) throws(FlowTableError) -> InPortMap {
        let parser = LineParser(bytes: Array(text.utf8), number: 1)
        var rules: [Rule] = []
        for item in try parser.splitTopLevel(Span(start: 0, end: parser.bytes.count)) {
            rules.append(try parser.parseInPortRule(parser.trimmed(item)))
        }
        return InPortMap(rules: rules)
    }
}

extension LineParser {
    /// `PORT=ADDRESS[/PREFIX]` or `PORT=ifN`.
    func parseInPortRule(_ item: Span) throws(FlowTableError) -> InPortMap.Rule {
        let expected = "PORT=ADDRESS[/PREFIX] or PORT=ifN, e.g. 1=10.1.1.1/32 or 2=if0"
        guard let equals = first(UInt8(ascii: "="), in: item) else {
            throw error(item, "'\(text(item))' is not a rule", expected: expected)
        }
        let portSpan = trimmed(Span(start: item.start, end: equals))
        let valueSpan = trimmed(Span(start: equals + 1, end: item.end))
        let port = UInt32(try parseNumber(portSpan, max: FlowParser.maxPort, what: "port"))
        let value = text(valueSpan)
        if value.hasPrefix("if") {
            let id = try parseNumber(Span(start: valueSpan.start + 2, end: valueSpan.end), max: UInt64(UInt32.max),
                                     what: "interface id")
            return .interface(id: UInt32(id), port: port)
        }
        if valueSpan.isEmpty {
            throw error(valueSpan, "missing address after '='", expected: expected)
        }
        if first(UInt8(ascii: ":"), in: valueSpan) != nil {
            let (address, mask) = try parseIPv6Field(valueSpan)
            return .source(address: IPAddress(high: address.high & mask.high, low: address.low & mask.low),
                           mask: mask, port: port)
        }
        let (address, mask) = try parseIPv4Field(valueSpan)
        return .source(address: IPAddress(v4: address & mask),
                       mask: IPAddress(high: .max, low: 0xFFFF_FFFF_0000_0000 | UInt64(mask)), port: port)
    }
}
