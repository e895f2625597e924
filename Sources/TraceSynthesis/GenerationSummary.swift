/// What a generator run produced.
public struct GenerationSummary: Hashable, Sendable, CustomStringConvertible {
    public var packets = 0
    public var bytes = 0
    public var tcpFlows = 0
    /// TCP flows that ended with a RST.
    public var tcpFlowsReset = 0
    public var udpFlows = 0
    public var icmpFlows = 0
    public var ftpSessions: [FTPMode: Int] = [:]
    public var ftpDataConnections = 0
    public var tftpSessions = 0
    /// Sessions (flows, pairs, FTP and TFTP sessions) over IPv6.
    public var ipv6Sessions = 0

    public init() {}

    public var ftpSessionTotal: Int { ftpSessions.values.reduce(0, +) }

    /// Connections a tracker would create: each flow or pair, each FTP control and data
    /// connection, and each TFTP request plus its transfer.
    public var connections: Int {
        tcpFlows + udpFlows + icmpFlows + ftpSessionTotal + ftpDataConnections + 2 * tftpSessions
    }

    public var description: String {
        let ftp = FTPMode.allCases.compactMap { m in ftpSessions[m].map { "\(m.rawValue)=\($0)" } }
        return "\(packets) packets, \(bytes) bytes, \(connections) connections: "
            + "\(tcpFlows) TCP flows (\(tcpFlowsReset) reset), \(udpFlows) UDP pairs, \(icmpFlows) ICMP echo pairs, "
            + "\(ftpSessionTotal) FTP sessions\(ftp.isEmpty ? "" : " (" + ftp.joined(separator: " ") + ")") "
            + "with \(ftpDataConnections) data connections, \(tftpSessions) TFTP sessions; "
            + "\(ipv6Sessions) sessions over IPv6"
    }
}
