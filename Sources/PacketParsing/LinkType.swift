/// The link-layer header type of a capture, as libpcap's `pcap_datalink` reports it (DLT_*).
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    /// The link type with this DLT / LINKTYPE value.
    @inlinable public init(rawValue: Int32) { self.rawValue = rawValue }

    /// BSD loopback: a 4-byte host-order address family, then IP.
    @inlinable public static var null: LinkType { LinkType(rawValue: 0) }
    /// Ethernet II, with optional 802.1Q / 802.1ad (QinQ) tags.
    @inlinable public static var ethernet: LinkType { LinkType(rawValue: 1) }
    /// Raw IP, version taken from the first nibble (DLT_RAW as Linux libpcap reports it).
    @inlinable public static var raw: LinkType { LinkType(rawValue: 12) }
    /// Raw IP, the LINKTYPE_RAW value some writers use.
    @inlinable public static var rawLinktype: LinkType { LinkType(rawValue: 101) }
    /// OpenBSD loopback: like `null` but the family is big-endian.
    @inlinable public static var loop: LinkType { LinkType(rawValue: 108) }
    /// Linux cooked capture v1 (16-byte header).
    @inlinable public static var linuxSLL: LinkType { LinkType(rawValue: 113) }
    /// Raw IPv4 only.
    @inlinable public static var ipv4: LinkType { LinkType(rawValue: 228) }
    /// Raw IPv6 only.
    @inlinable public static var ipv6: LinkType { LinkType(rawValue: 229) }
    /// Linux cooked capture v2 (20-byte header).
    @inlinable public static var linuxSLL2: LinkType { LinkType(rawValue: 276) }

    /// Whether the parser understands this link type.
    public var isSupported: Bool {
        switch self {
        case .null, .ethernet, .raw, .rawLinktype, .loop, .linuxSLL, .ipv4, .ipv6, .linuxSLL2: true
        default: false
        }
    }

    /// A short name (`ethernet`, `linux-sll2`, `dlt-105`).
    public var description: String {
        switch self {
        case .null: "null"
        case .ethernet: "ethernet"
        case .raw, .rawLinktype: "raw"
        case .loop: "loop"
        case .linuxSLL: "linux-sll"
        case .ipv4: "ipv4"
        case .ipv6: "ipv6"
        case .linuxSLL2: "linux-sll2"
        default: "dlt-\(rawValue)"
        }
    }
}
