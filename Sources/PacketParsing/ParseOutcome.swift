/// What the parser made of one packet. `.ok` means a usable IP packet; `.arp` and
/// `.unsupportedEtherType` are well-formed frames that are not IP; every other case names the
/// header that was malformed and how. The raw value is stable and small: it indexes counters.
public enum ParseOutcome: UInt8, CaseIterable, Sendable {
    case ok = 0
    case arp
    case unsupportedEtherType
    case unsupportedLinkType

    case truncatedLinkHeader
    case truncatedVLANTag
    case tooManyVLANTags

    case truncatedIPv4Header
    case badIPVersion
    case badIPv4HeaderLength
    case badIPv4TotalLength
    case ipv4LengthBeyondCapture

    case truncatedIPv6Header
    case ipv6LengthBeyondCapture
    case truncatedIPv6ExtensionHeader
    case tooManyIPv6ExtensionHeaders

    case truncatedTCPHeader
    case badTCPDataOffset
    case truncatedUDPHeader
    case badUDPLength
    case truncatedICMPHeader
    /// SCTP common header (12 bytes: ports, verification tag, checksum) not captured. Added
    /// after the others so that the earlier raw values stay as they were.
    case truncatedSCTPHeader

    /// True for the cases that describe a malformed packet (not `.ok`, `.arp`, or a
    /// well-formed frame of a kind we do not track).
    public var isMalformed: Bool {
        switch self {
        case .ok, .arp, .unsupportedEtherType, .unsupportedLinkType: false
        default: true
        }
    }

    /// A short stable name for reports and JSON keys, e.g. `bad_tcp_data_offset`.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .arp: "arp"
        case .unsupportedEtherType: "unsupported_ether_type"
        case .unsupportedLinkType: "unsupported_link_type"
        case .truncatedLinkHeader: "truncated_link_header"
        case .truncatedVLANTag: "truncated_vlan_tag"
        case .tooManyVLANTags: "too_many_vlan_tags"
        case .truncatedIPv4Header: "truncated_ipv4_header"
        case .badIPVersion: "bad_ip_version"
        case .badIPv4HeaderLength: "bad_ipv4_header_length"
        case .badIPv4TotalLength: "bad_ipv4_total_length"
        case .ipv4LengthBeyondCapture: "ipv4_length_beyond_capture"
        case .truncatedIPv6Header: "truncated_ipv6_header"
        case .ipv6LengthBeyondCapture: "ipv6_length_beyond_capture"
        case .truncatedIPv6ExtensionHeader: "truncated_ipv6_extension_header"
        case .tooManyIPv6ExtensionHeaders: "too_many_ipv6_extension_headers"
        case .truncatedTCPHeader: "truncated_tcp_header"
        case .badTCPDataOffset: "bad_tcp_data_offset"
        case .truncatedUDPHeader: "truncated_udp_header"
        case .badUDPLength: "bad_udp_length"
        case .truncatedICMPHeader: "truncated_icmp_header"
        case .truncatedSCTPHeader: "truncated_sctp_header"
        }
    }
}
