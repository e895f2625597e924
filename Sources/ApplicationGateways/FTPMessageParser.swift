import PacketParsing

/// Parses one complete FTP control line and says whether it announces a data connection.
///
/// Client to server it recognises `PORT h1,h2,h3,h4,p1,p2` and
/// `EPRT <d><af><d><addr><d><port><d>` (command case-insensitive, one or more spaces before the
/// argument, trailing spaces ignored). Server to client it recognises `227 <text>` (the six
/// numbers start at the first digit after the code, in parentheses or not, as Linux's
/// `nf_conntrack_ftp` finds them) and `229 <text>(<d><d><d><port><d>)`. Every other line is
/// `.none`, and so is a 227 / 229 line with no address in it at all.
///
/// The parser reads the bytes in place and never allocates. Policy checks that need the
/// control connection (bounce, privileged port, family) are left to the caller.
public struct FTPMessageParser: Sendable {
    /// The default longest line, in bytes without the line ending.
    public static let defaultMaximumLineLength = 256

    /// Lines longer than this (not counting a trailing CR / LF) that start like an announcement
    /// (`PORT` / `EPRT` from the client, `227` / `229` from the server) are
    /// `.rejected(.lineTooLong)` without being scanned; other long lines are `.none`, as every
    /// line the helper has no interest in (a control connection may carry anything else, and
    /// OVS's helper ignores it).
    public var maximumLineLength: Int

    public init(maximumLineLength: Int = FTPMessageParser.defaultMaximumLineLength) {
        precondition(maximumLineLength > 0, "maximumLineLength must be positive")
        self.maximumLineLength = maximumLineLength
    }

    /// Parses `line` (one line; a trailing LF and/or CR, if present, is ignored), seen from the
    /// client when `fromClient` is true, else from the server.
    public func parse(_ line: UnsafeRawBufferPointer, fromClient: Bool) -> FTPParseResult {
        var end = line.count
        if end > 0, line[end - 1] == ASCII.lineFeed { end -= 1 }
        if end > 0, line[end - 1] == ASCII.carriageReturn { end -= 1 }
        if end > maximumLineLength {
            var prefix: UInt32 = 0
            for i in 0..<Swift.min(4, end) { prefix = prefix << 8 | UInt32(ASCII.lowercased(line[i])) }
            let announcing = end >= 4 && FTPMessageParser.mayAnnounce(prefix: prefix, fromClient: fromClient)
            return announcing ? .rejected(.lineTooLong) : .none
        }
        return fromClient ? parseCommand(line, end: end) : parseReply(line, end: end)
    }

    /// Convenience for tests and tools: parses a line held in an array.
    public func parse(_ line: [UInt8], fromClient: Bool) -> FTPParseResult {
        line.withUnsafeBytes { parse($0, fromClient: fromClient) }
    }

    /// Whether a line whose first four bytes (lower-cased, first byte highest) are `prefix`
    /// could announce a data connection: `port` / `eprt` from the client, `227` / `229` from
    /// the server.
    public static func mayAnnounce(prefix: UInt32, fromClient: Bool) -> Bool {
        if fromClient { return prefix == portVerb || prefix == eprtVerb }
        return prefix >> 8 == 0x32_3237 || prefix >> 8 == 0x32_3239
    }

    // MARK: - Commands (client to server)

    /// "port" and "eprt" as four lower-case bytes, first byte highest.
    private static let portVerb: UInt32 = 0x706f_7274
    private static let eprtVerb: UInt32 = 0x6570_7274

    private func parseCommand(_ p: UnsafeRawBufferPointer, end: Int) -> FTPParseResult {
        guard end >= 4 else { return .none }
        var verb: UInt32 = 0
        for i in 0..<4 { verb = verb << 8 | UInt32(ASCII.lowercased(p[i])) }
        let mode: FTPMode
        switch verb {
        case Self.portVerb: mode = .port
        case Self.eprtVerb: mode = .eprt
        default: return .none
        }
        // The verb must be a whole word: "PORTS ..." is some other command.
        if end > 4 && p[4] != ASCII.space { return .none }

        var start = 4
        while start < end, p[start] == ASCII.space { start += 1 }
        var argumentEnd = end
        while argumentEnd > start, p[argumentEnd - 1] == ASCII.space { argumentEnd -= 1 }
        for i in start..<argumentEnd {
            if let reason = ASCII.badByteReason(p[i]) { return .rejected(reason) }
        }
        if mode == .port {
            return Self.parseSixNumbers(p, from: start, to: argumentEnd, mode: .port, strict: true)
        }
        return Self.parseEPRT(p, from: start, to: argumentEnd)
    }

    // MARK: - Replies (server to client)

    private func parseReply(_ p: UnsafeRawBufferPointer, end: Int) -> FTPParseResult {
        guard end >= 3, p[0] == 0x32, p[1] == 0x32 else { return .none }  // "22x"
        // Only "227 ..." / "229 ..." (or the bare code): "2270", "227-" (a multi-line reply's
        // first line) are not announcements.
        if end > 3 && p[3] != ASCII.space { return .none }
        switch p[2] {
        case 0x37:  // '7'
            // The six numbers start at the first digit after the code.
            var i = 4
            while i < end, !ASCII.isDigit(p[i]) { i += 1 }
            if i >= end { return .none }
            return Self.parseSixNumbers(p, from: i, to: end, mode: .pasv, strict: false)
        case 0x39:  // '9'
            guard end > 4, let open = p.firstIndex(of: ASCII.openParenthesis, from: 4, to: end) else {
                return .none
            }
            return Self.parseEPSV(p, from: open + 1, to: end)
        default:
            return .none
        }
    }

    // MARK: - Field grammars

    /// Classifies a byte that stands where a number or separator was expected.
    @inline(__always)
    private static func unexpected(_ b: UInt8) -> FTPRejectReason {
        ASCII.badByteReason(b) ?? .unexpectedCharacter
    }

    /// `h1,h2,h3,h4,p1,p2` starting at `start`. With `strict` (PORT's argument) nothing may
    /// follow the sixth number; otherwise (227 text) anything but a comma may.
    private static func parseSixNumbers(
        _ p: UnsafeRawBufferPointer, from start: Int, to end: Int, mode: FTPMode, strict: Bool
    ) -> FTPParseResult {
        var address: UInt32 = 0
        var port: UInt32 = 0
        var i = start
        for field in 0..<6 {
            if field > 0 {
                guard i < end else { return .rejected(.tooFewFields) }
                let b = p[i]
                if b == ASCII.comma {
                    i += 1
                } else if let reason = ASCII.badByteReason(b) {
                    return .rejected(reason)
                } else if strict && b != ASCII.space {
                    return .rejected(.unexpectedCharacter)
                } else {
                    return .rejected(.tooFewFields)
                }
            }
            let run = p.scanDecimal(from: i, to: end)
            if run.overflow { return .rejected(.numericOverflow) }
            if run.isEmpty {
                if i == end {
                    return .rejected(field == 0 ? .tooFewFields : .emptyField)
                }
                return .rejected(p[i] == ASCII.comma ? .emptyField : unexpected(p[i]))
            }
            if run.value > 255 {
                return .rejected(field < 4 ? .octetOutOfRange : .portByteOutOfRange)
            }
            if field < 4 {
                address = address << 8 | run.value
            } else {
                port = port << 8 | run.value
            }
            i = run.end
        }
        if i < end {
            if p[i] == ASCII.comma { return .rejected(.tooManyFields) }
            if strict { return .rejected(unexpected(p[i])) }
        }
        if port == 0 { return .rejected(.portZero) }
        return .announcement(
            FTPAnnouncement(mode: mode, address: IPAddress(v4: address), family: .ipv4, port: UInt16(port)))
    }

    /// Reads an RFC 2428 delimiter at `i`: printable ASCII 33...126 other than a digit.
    @inline(__always)
    private static func delimiter(_ p: UnsafeRawBufferPointer, at i: Int, end: Int) -> Result<UInt8, FTPRejectReason> {
        guard i < end else { return .failure(.missingDelimiter) }
        let d = p[i]
        if let reason = ASCII.badByteReason(d) { return .failure(reason) }
        if d < 33 || d > 126 || ASCII.isDigit(d) { return .failure(.invalidDelimiter) }
        return .success(d)
    }

    /// Expects the delimiter `d` at `i`.
    @inline(__always)
    private static func expect(_ d: UInt8, _ p: UnsafeRawBufferPointer, at i: Int, end: Int) -> FTPRejectReason? {
        guard i < end else { return .missingDelimiter }
        let b = p[i]
        if b == d { return nil }
        return ASCII.badByteReason(b) ?? .mismatchedDelimiter
    }

    /// The `<port><d>` that ends EPRT and EPSV; returns the port and the index after `d`.
    private static func parseDelimitedPort(
        _ p: UnsafeRawBufferPointer, from start: Int, to end: Int, delimiter d: UInt8
    ) -> Result<(UInt16, Int), FTPRejectReason> {
        if start == end { return .failure(.tooFewFields) }
        let run = p.scanDecimal(from: start, to: end)
        if run.overflow { return .failure(.numericOverflow) }
        if run.isEmpty { return .failure(p[start] == d ? .emptyField : unexpected(p[start])) }
        if let reason = expect(d, p, at: run.end, end: end) { return .failure(reason) }
        if run.value > 65535 { return .failure(.portOutOfRange) }
        if run.value == 0 { return .failure(.portZero) }
        return .success((UInt16(run.value), run.end + 1))
    }

    /// `<d><af><d><addr><d><port><d>`: the argument of EPRT, already free of control and
    /// non-ASCII bytes, trailing spaces removed.
    private static func parseEPRT(_ p: UnsafeRawBufferPointer, from start: Int, to end: Int) -> FTPParseResult {
        if start == end { return .rejected(.tooFewFields) }
        let d: UInt8
        switch delimiter(p, at: start, end: end) {
        case .success(let v): d = v
        case .failure(let reason): return .rejected(reason)
        }
        // Address family: exactly one byte, '1' or '2', then the delimiter.
        let afStart = start + 1
        if afStart == end { return .rejected(.tooFewFields) }
        guard let afEnd = p.firstIndex(of: d, from: afStart, to: end) else { return .rejected(.missingDelimiter) }
        let family: AddressFamily
        switch afEnd - afStart == 1 ? p[afStart] : 0 {
        case 0x31: family = .ipv4
        case 0x32: family = .ipv6
        default: return .rejected(.badAddressFamily)
        }
        // Address: everything up to the next delimiter.
        let addressStart = afEnd + 1
        if addressStart == end { return .rejected(.tooFewFields) }
        guard let addressEnd = p.firstIndex(of: d, from: addressStart, to: end) else {
            return .rejected(.missingDelimiter)
        }
        let address: IPAddress
        if family == .ipv4 {
            switch FTPAddressText.parseDottedQuad(p, from: addressStart, to: addressEnd) {
            case .success(let v4): address = IPAddress(v4: v4)
            case .failure(.octetOutOfRange): return .rejected(.octetOutOfRange)
            case .failure(.malformed): return .rejected(.malformedAddress)
            }
        } else {
            guard let v6 = FTPAddressText.parseIPv6(p, from: addressStart, to: addressEnd) else {
                return .rejected(.malformedAddress)
            }
            address = v6
        }
        switch parseDelimitedPort(p, from: addressEnd + 1, to: end, delimiter: d) {
        case .failure(let reason):
            return .rejected(reason)
        case .success(let (port, after)):
            if after < end { return .rejected(.tooManyFields) }
            return .announcement(FTPAnnouncement(mode: .eprt, address: address, family: family, port: port))
        }
    }

    /// `<d><d><d><port><d>` after the 229 reply's `(`; what follows (`)`, text) is ignored.
    private static func parseEPSV(_ p: UnsafeRawBufferPointer, from start: Int, to end: Int) -> FTPParseResult {
        let d: UInt8
        switch delimiter(p, at: start, end: end) {
        case .success(let v): d = v
        case .failure(let reason): return .rejected(reason)
        }
        // The network-protocol and network-address fields must be empty.
        if let reason = expect(d, p, at: start + 1, end: end) { return .rejected(reason) }
        if let reason = expect(d, p, at: start + 2, end: end) { return .rejected(reason) }
        switch parseDelimitedPort(p, from: start + 3, to: end, delimiter: d) {
        case .failure(let reason):
            return .rejected(reason)
        case .success(let (port, _)):
            return .announcement(FTPAnnouncement(mode: .epsv, address: nil, family: nil, port: port))
        }
    }
}
