import PacketParsing

/// How an FTP data connection was announced on the control connection.
public enum FTPMode: UInt8, CaseIterable, Sendable {
    /// `PORT h1,h2,h3,h4,p1,p2` from the client (RFC 959 active mode).
    case port
    /// `EPRT <d><af><d><addr><d><port><d>` from the client (RFC 2428 extended active mode).
    case eprt
    /// A `227` reply from the server to `PASV` (RFC 959 passive mode).
    case pasv
    /// A `229` reply from the server to `EPSV` (RFC 2428 extended passive mode).
    case epsv

    public var name: String {
        switch self {
        case .port: "port"
        case .eprt: "eprt"
        case .pasv: "pasv"
        case .epsv: "epsv"
        }
    }
}

/// A data connection endpoint announced by one FTP control line: the data connection will be
/// opened towards `address`:`port` (towards the control connection's server for EPSV).
///
/// The parser does no policy checks; whether the address is the control connection's peer,
/// whether the port is privileged and whether the family matches are the caller's business.
public struct FTPAnnouncement: Equatable, Sendable {
    /// Which command or reply carried the announcement.
    public var mode: FTPMode
    /// The announced address; IPv4 addresses are v4-mapped (`IPAddress(v4:)`). `nil` for EPSV,
    /// whose 229 reply carries only a port: the address is the control connection's server.
    public var address: IPAddress?
    /// The announced family: `.ipv4` for PORT and 227, EPRT's `|1|` / `|2|`, `nil` for EPSV.
    /// An EPRT `|2|` address written as `::ffff:a.b.c.d` keeps family `.ipv6` although its
    /// `address` is the v4-mapped value.
    public var family: AddressFamily?
    /// The announced port, never 0.
    public var port: UInt16

    public init(mode: FTPMode, address: IPAddress?, family: AddressFamily?, port: UInt16) {
        self.mode = mode
        self.address = address
        self.family = family
        self.port = port
    }
}

/// What one FTP control line means to the ALG.
public enum FTPParseResult: Equatable, Sendable {
    /// Not an announcement: any other command or reply, or a 227 / 229 line with no address in
    /// it at all (pure-ftpd's `227 Logout.`).
    case none
    /// A well-formed PORT / EPRT command or 227 / 229 reply.
    case announcement(FTPAnnouncement)
    /// A PORT / EPRT command or 227 / 229 reply whose address or port is broken, or a line over
    /// the length limit.
    case rejected(FTPRejectReason)
}
