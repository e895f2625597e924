/// The FTP data-channel negotiations the generator can script.
public enum FTPMode: String, CaseIterable, Hashable, Sendable {
    /// IPv4 `PORT h1,h2,h3,h4,p1,p2` / 200; the server connects from port 20.
    case port
    /// IPv4 `PASV` / `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2).`; the client connects.
    case pasv
    /// IPv4 `EPRT |1|addr|port|` / 200; the server connects from port 20.
    case eprt4
    /// IPv6 `EPRT |2|addr|port|` / 200; the server connects from port 20.
    case eprt6
    /// IPv4 `EPSV` / `229 Entering Extended Passive Mode (|||port|)`; the client connects.
    case epsv4
    /// IPv6 `EPSV` / 229; the client connects.
    case epsv6

    public var isIPv6: Bool { self == .eprt6 || self == .epsv6 }
    /// Whether the server opens the data connection (PORT/EPRT).
    public var serverConnects: Bool { self == .port || self == .eprt4 || self == .eprt6 }
}

/// Named configurations for `TraceGenerator`.
public enum GeneratorPreset: String, CaseIterable, Sendable {
    /// 3,000 packets: TCP, UDP, ICMP, IPv6, VLAN, one FTP session per mode, four TFTP sessions.
    case sample
    /// FTP sessions only (two per mode), no other traffic.
    case ftp
    /// TFTP sessions only (four RRQ, four WRQ).
    case tftp
    /// 1,000,000 packets, 10,000 TCP flows 1,000 open at a time, 20 FTP sessions per mode, 40 TFTP.
    case bench
    /// 2,000,000 packets, 100,000 TCP flows 1,000 open at a time: flow-table pressure.
    case flows
}

/// What `TraceGenerator` produces. Same configuration, same bytes.
///
/// Packet budget: FTP and TFTP sessions are scripted first; UDP request/reply pairs and ICMP echo
/// pairs take `udpShare` and `icmpShare` of `packets`; TCP flows share the rest exactly, so the
/// trace has exactly `packets` packets whenever that is more than the FTP/TFTP sessions need and
/// at least one TCP flow fits (or `tcpFlows` is nil). With `packets` 0 the trace holds only the
/// FTP and TFTP sessions.
public struct GeneratorConfig: Hashable, Sendable {
    public var seed: UInt64 = 1
    /// Target packet count (see the budget rule above).
    public var packets: Int = 10_000
    /// Plain TCP flows; nil derives it from the budget and `exchangesPerFlow`.
    public var tcpFlows: Int? = nil
    /// Mean request/response exchanges per TCP flow when `tcpFlows` is nil.
    public var exchangesPerFlow: Int = 8
    /// At most this many sessions are open (interleaved) at once.
    public var concurrency: Int = 1_000
    public var udpShare: Double = 0.1
    public var icmpShare: Double = 0.02
    /// Share of TCP flows, UDP pairs, ICMP pairs and TFTP sessions that use IPv6.
    public var ipv6Share: Double = 0.1
    /// Tag sessions with VLANs (most with one 802.1Q tag, some QinQ, a few untagged).
    public var vlan: Bool = false
    /// Share of TCP flows that end with a RST instead of FINs.
    public var rstShare: Double = 0.05
    /// FTP sessions for each mode in `ftpModes`.
    public var ftpSessionsPerMode: Int = 0
    public var ftpModes: [FTPMode] = FTPMode.allCases
    /// TFTP sessions, alternately read (RRQ) and write (WRQ).
    public var tftpSessions: Int = 0
    /// Distinct server addresses per family.
    public var servers: Int = 64
    /// Largest TCP payload a server sends in one exchange (clients send up to 400 bytes).
    public var maxServerPayload: Int = 1_400

    public init() {}

    public init(preset: GeneratorPreset) {
        self.init()
        switch preset {
        case .sample:
            packets = 3_000; tcpFlows = 60; concurrency = 40; maxServerPayload = 400
            udpShare = 0.1; icmpShare = 0.03; ipv6Share = 0.2; vlan = true
            ftpSessionsPerMode = 1; tftpSessions = 4; servers = 8
        case .ftp:
            packets = 0; tcpFlows = 0; udpShare = 0; icmpShare = 0; ipv6Share = 0
            ftpSessionsPerMode = 2; concurrency = 4; servers = 4
        case .tftp:
            packets = 0; tcpFlows = 0; udpShare = 0; icmpShare = 0; ipv6Share = 0
            tftpSessions = 8; concurrency = 4; servers = 4
        case .bench:
            packets = 1_000_000; tcpFlows = 10_000; concurrency = 1_000
            udpShare = 0.05; icmpShare = 0.01; ipv6Share = 0.1
            ftpSessionsPerMode = 20; tftpSessions = 40; servers = 256
            maxServerPayload = 512
        case .flows:
            packets = 2_000_000; tcpFlows = 100_000; concurrency = 1_000
            udpShare = 0.05; icmpShare = 0.01; ipv6Share = 0.1
            ftpSessionsPerMode = 10; tftpSessions = 20; servers = 1_024
            maxServerPayload = 512
        }
    }
}
