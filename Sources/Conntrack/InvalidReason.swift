/// Why conntrack marked a packet +inv. The raw value is stable and small: it indexes counters.
public enum InvalidReason: UInt8, CaseIterable, Sendable {
    /// The IP or transport header was malformed (see the parser's outcome counters).
    case malformedHeader = 0
    /// An IP fragment: without reassembly (OVS with ipf disabled) fragments are not tracked.
    case fragment
    /// A checksum was wrong and checksum enforcement is on.
    case badChecksum
    /// The TCP tracker refused a first packet (bad flag combination, SYN+ACK, ...).
    case tcpInvalidNew
    /// The TCP tracker refused a packet of an existing connection (window, flags, ...).
    case tcpInvalidUpdate
    /// An ICMP message that may not start a connection (echo reply, unknown type).
    case icmpInvalidNew
    /// An ICMP echo message of the wrong kind for its direction.
    case icmpWrongDirection
    /// An ICMP error whose embedded packet belongs to no tracked connection.
    case icmpErrorUnrelated
    /// An ALG refused a command or reply carried by this packet.
    case algRejected
    /// A flow table sent a frame that is not IPv4/IPv6 (ARP, ...) through ct: there is no
    /// connection key to extract (OVS marks such packets invalid too).
    case notIP

    public var name: String {
        switch self {
        case .malformedHeader: "malformed_header"
        case .fragment: "fragment"
        case .badChecksum: "bad_checksum"
        case .tcpInvalidNew: "tcp_invalid_new"
        case .tcpInvalidUpdate: "tcp_invalid_update"
        case .icmpInvalidNew: "icmp_invalid_new"
        case .icmpWrongDirection: "icmp_wrong_direction"
        case .icmpErrorUnrelated: "icmp_error_unrelated"
        case .algRejected: "alg_rejected"
        case .notIP: "not_ip"
        }
    }
}
