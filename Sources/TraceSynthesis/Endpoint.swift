import PacketParsing

/// An IP address and a port: one end of a flow. IPv4 addresses are held v4-mapped, as in
/// `IPAddress`, so `Endpoint(ip: "::ffff:10.0.0.1")` is an IPv4 endpoint.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16 = 0) {
        self.address = address
        self.port = port
    }

    /// Parses IPv4 dotted-quad or IPv6 text ("10.1.1.1", "2001:db8::1", "::ffff:1.2.3.4").
    /// Traps on malformed text: meant for literals in tests and test vectors.
    public init(ip: String, port: UInt16 = 0) {
        guard let address = parseIPAddress(ip) else { preconditionFailure("Endpoint: not an IP address: \(ip)") }
        self.init(address: address, port: port)
    }

    /// Parses IPv4 or IPv6 text; nil when malformed.
    public init?(parsing ip: String, port: UInt16 = 0) {
        guard let address = parseIPAddress(ip) else { return nil }
        self.init(address: address, port: port)
    }

    public var isIPv6: Bool { address.v4 == nil }

    /// "10.1.1.1:21" or "[2001:db8::1]:21".
    public var description: String { isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }

    /// The same address with another port.
    public func with(port: UInt16) -> Endpoint { Endpoint(address: address, port: port) }
}

/// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with "::" and an optional dotted-quad tail).
func parseIPAddress(_ text: String) -> IPAddress? {
    if !text.contains(":") {
        return parseIPv4(Substring(text)).map { IPAddress(v4: $0) }
    }
    return parseIPv6(text)
}

func parseIPv4(_ text: Substring) -> UInt32? {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var value: UInt32 = 0
    for part in parts {
        guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
              let octet = UInt32(part), octet <= 255 else { return nil }
        value = value << 8 | octet
    }
    return value
}

func parseIPv6(_ text: String) -> IPAddress? {
    // Split at "::" (at most one allowed).
    var halves: [Substring] = [Substring(text)]
    let utf8 = Array(text.utf8)
    if let at = (0..<max(utf8.count - 1, 0)).first(where: { utf8[$0] == 58 && utf8[$0 + 1] == 58 }) {
        let head = String(decoding: utf8[..<at], as: UTF8.self)
        let tail = String(decoding: utf8[(at + 2)...], as: UTF8.self)
        if tail.hasPrefix(":") || tail.contains("::") || head.hasSuffix(":") { return nil }
        halves = [Substring(head), Substring(tail)]
    }
    func groups(_ s: Substring) -> [UInt16]? {
        if s.isEmpty { return [] }
        var out: [UInt16] = []
        let fields = s.split(separator: ":", omittingEmptySubsequences: false)
        for (i, field) in fields.enumerated() {
            if i == fields.count - 1, field.contains(".") {
                guard let v4 = parseIPv4(field) else { return nil }
                out += [UInt16(v4 >> 16), UInt16(v4 & 0xffff)]
            } else {
                guard (1...4).contains(field.count), let g = UInt16(field, radix: 16) else { return nil }
                out.append(g)
            }
        }
        return out
    }
    guard let head = groups(halves[0]) else { return nil }
    var all: [UInt16]
    if halves.count == 2 {
        guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
        all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
    } else {
        guard head.count == 8 else { return nil }
        all = head
    }
    var high: UInt64 = 0, low: UInt64 = 0
    for i in 0..<4 { high = high << 16 | UInt64(all[i]) }
    for i in 4..<8 { low = low << 16 | UInt64(all[i]) }
    return IPAddress(high: high, low: low)
}
