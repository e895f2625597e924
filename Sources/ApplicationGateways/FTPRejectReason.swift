/// Why the FTP ALG refused a control line. The raw values are stable and small: they index
/// counters, so a new case goes at the end.
///
/// The first group is found by `FTPMessageParser` from the line alone; the last three are policy
/// checks that need the control connection and are made by the caller, so that all FTP refusals
/// share one counter space.
public enum FTPRejectReason: UInt8, CaseIterable, Sendable, Error {
    /// An address octet (PORT / 227 field 1-4, or a dotted-quad part of EPRT `|1|`) above 255.
    case octetOutOfRange = 0
    /// A PORT / 227 port byte (field 5 or 6) above 255.
    case portByteOutOfRange
    /// An EPRT / EPSV port number above 65535.
    case portOutOfRange
    /// The announced port is 0.
    case portZero
    /// A number with more digits than fit in 32 bits.
    case numericOverflow
    /// Fewer than six PORT / 227 numbers, or an EPRT / EPSV argument that ends where a field
    /// should start.
    case tooFewFields
    /// More than six PORT / 227 numbers, or something after EPRT's closing delimiter.
    case tooManyFields
    /// A field with no digits (`1,,2`, `|1|1.2.3.4||`).
    case emptyField
    /// The line ends where an EPRT / EPSV delimiter was expected.
    case missingDelimiter
    /// Another character stands where an EPRT / EPSV delimiter was expected.
    case mismatchedDelimiter
    /// An EPRT / EPSV delimiter outside RFC 2428's printable range 33...126, or a digit.
    case invalidDelimiter
    /// An EPRT address family other than `1` (IPv4) or `2` (IPv6).
    case badAddressFamily
    /// An EPRT address that is not valid text for its family.
    case malformedAddress
    /// A character that belongs to no field (`PORT 1.2.3.4.5.6`, `PORT 1,2,3,4,5,6x`).
    case unexpectedCharacter
    /// A byte >= 0x80 inside a command's argument or a reply's address.
    case nonASCIIByte
    /// A control byte (< 0x20 or 0x7f) inside a command's argument or a reply's address.
    case controlByte
    /// The line is longer than the parser's `maximumLineLength`; it was not scanned.
    case lineTooLong
    /// Policy (caller): the announced address is not the control connection's peer (FTP bounce).
    case addressNotControlPeer
    /// Policy (caller): the announced port is below 1024.
    case privilegedPort
    /// Policy (caller): the announced family differs from the control connection's.
    case familyMismatch

    /// A stable snake_case name for counters and reports.
    public var name: String {
        switch self {
        case .octetOutOfRange: "octet_out_of_range"
        case .portByteOutOfRange: "port_byte_out_of_range"
        case .portOutOfRange: "port_out_of_range"
        case .portZero: "port_zero"
        case .numericOverflow: "numeric_overflow"
        case .tooFewFields: "too_few_fields"
        case .tooManyFields: "too_many_fields"
        case .emptyField: "empty_field"
        case .missingDelimiter: "missing_delimiter"
        case .mismatchedDelimiter: "mismatched_delimiter"
        case .invalidDelimiter: "invalid_delimiter"
        case .badAddressFamily: "bad_address_family"
        case .malformedAddress: "malformed_address"
        case .unexpectedCharacter: "unexpected_character"
        case .nonASCIIByte: "non_ascii_byte"
        case .controlByte: "control_byte"
        case .lineTooLong: "line_too_long"
        case .addressNotControlPeer: "address_not_control_peer"
        case .privilegedPort: "privileged_port"
        case .familyMismatch: "family_mismatch"
        }
    }
}
