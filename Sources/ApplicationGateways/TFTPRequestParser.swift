/// The kind of a TFTP request (RFC 1350 opcodes 1 and 2).
public enum TFTPRequestKind: UInt8, Sendable {
    /// RRQ, opcode 1: the client reads a file from the server.
    case read = 1
    /// WRQ, opcode 2: the client writes a file to the server.
    case write = 2
}

/// A TFTP transfer mode (RFC 1350), matched case-insensitively.
public enum TFTPTransferMode: UInt8, Sendable {
    case netascii
    case octet
    case mail
}

/// Why a datagram to the TFTP port was refused. Raw values are stable: they index counters.
public enum TFTPRejectReason: UInt8, CaseIterable, Sendable {
    /// Fewer than 2 bytes: no opcode.
    case truncated = 0
    /// Opcode 0 or above 6 (RFC 1350 and RFC 2347 define 1...6).
    case badOpcode
    /// The filename has no terminating NUL.
    case missingFilenameTerminator
    /// The filename is empty.
    case emptyFilename
    /// The mode has no terminating NUL.
    case missingModeTerminator
    /// The mode is not netascii, octet or mail.
    case unknownMode

    /// A stable snake_case name for counters and reports.
    public var name: String {
        switch self {
        case .truncated: "truncated"
        case .badOpcode: "bad_opcode"
        case .missingFilenameTerminator: "missing_filename_terminator"
        case .emptyFilename: "empty_filename"
        case .missingModeTerminator: "missing_mode_terminator"
        case .unknownMode: "unknown_mode"
        }
    }
}

/// What one datagram sent to UDP port 69 means to the TFTP ALG.
public enum TFTPParseResult: Equatable, Sendable {
    /// A valid TFTP opcode that is not a request (DATA, ACK, ERROR, OACK).
    case none
    /// A read or write request. The server answers from a new port, so the caller expects a
    /// reply from the server's address to the client's port.
    case request(kind: TFTPRequestKind, filenameLength: Int, mode: TFTPTransferMode)
    /// A malformed datagram.
    case rejected(TFTPRejectReason)
}

/// Parses an RRQ / WRQ: `opcode(2) filename NUL mode NUL [option NUL value NUL]...`.
/// RFC 2347 options after the mode are allowed and not examined. No allocation.
public struct TFTPRequestParser: Sendable {
    public init() {}

    public func parse(_ payload: UnsafeRawBufferPointer) -> TFTPParseResult {
        let end = payload.count
        guard end >= 2 else { return .rejected(.truncated) }
        let opcode = UInt16(payload[0]) << 8 | UInt16(payload[1])
        let kind: TFTPRequestKind
        switch opcode {
        case 1: kind = .read
        case 2: kind = .write
        case 3...6: return .none
        default: return .rejected(.badOpcode)
        }
        guard let filenameEnd = payload.firstIndex(of: ASCII.nul, from: 2, to: end) else {
            return .rejected(.missingFilenameTerminator)
        }
        if filenameEnd == 2 { return .rejected(.emptyFilename) }
        let modeStart = filenameEnd + 1
        guard let modeEnd = payload.firstIndex(of: ASCII.nul, from: modeStart, to: end) else {
            return .rejected(.missingModeTerminator)
        }
        guard let mode = Self.mode(payload, from: modeStart, to: modeEnd) else { return .rejected(.unknownMode) }
        return .request(kind: kind, filenameLength: filenameEnd - 2, mode: mode)
    }

    /// Array convenience for tests and tools.
    public func parse(_ payload: [UInt8]) -> TFTPParseResult {
        payload.withUnsafeBytes { parse($0) }
    }

    private static func mode(_ p: UnsafeRawBufferPointer, from start: Int, to end: Int) -> TFTPTransferMode? {
        func matches(_ word: StaticString) -> Bool {
            guard word.utf8CodeUnitCount == end - start else { return false }
            let w = word.utf8Start
            for k in 0..<(end - start) where ASCII.lowercased(p[start + k]) != w[k] { return false }
            return true
        }
        if matches("octet") { return .octet }
        if matches("netascii") { return .netascii }
        if matches("mail") { return .mail }
        return nil
    }
}
