/// One VLAN tag: TPID 0x8100 (802.1Q, customer tag) or 0x88A8 (802.1ad, service tag).
public struct VLANTag: Hashable, Sendable {
    public var tpid: UInt16
    public var vid: UInt16
    public var priority: UInt8

    public init(vid: UInt16, tpid: UInt16 = 0x8100, priority: UInt8 = 0) {
        self.tpid = tpid
        self.vid = vid & 0x0fff
        self.priority = priority & 7
    }

    /// An 802.1Q customer tag.
    public static func dot1Q(_ vid: UInt16) -> VLANTag { VLANTag(vid: vid, tpid: 0x8100) }
    /// An 802.1ad service (outer) tag.
    public static func dot1ad(_ vid: UInt16) -> VLANTag { VLANTag(vid: vid, tpid: 0x88A8) }
}

/// Link- and IP-layer settings for a built frame. The defaults give a plain Ethernet II frame,
/// TTL 64, DF set, identification 0.
public struct PacketOptions: Hashable, Sendable {
    /// VLAN tags, outermost first (one for 802.1Q, two for QinQ: `[.dot1ad(s), .dot1Q(c)]`).
    public var vlans: [VLANTag] = []
    /// IPv4 TTL / IPv6 hop limit.
    public var ttl: UInt8 = 64
    /// IPv4 identification.
    public var identification: UInt16 = 0
    /// IPv4 don't-fragment flag.
    public var dontFragment: Bool = true
    /// IPv4 more-fragments flag (build whole datagrams and use `PacketBuilder.fragment` instead
    /// where the L4 checksum must be right).
    public var moreFragments: Bool = false
    /// IPv4 fragment offset, in 8-byte units.
    public var fragmentOffset: UInt16 = 0
    /// IPv4 TOS / IPv6 traffic class.
    public var tos: UInt8 = 0
    /// IPv6 flow label (20 bits).
    public var flowLabel: UInt32 = 0
    /// Override the MAC addresses otherwise derived from the IP addresses.
    public var sourceMAC: [UInt8]? = nil
    public var destinationMAC: [UInt8]? = nil

    public init(vlans: [VLANTag] = [], ttl: UInt8 = 64, identification: UInt16 = 0, dontFragment: Bool = true) {
        self.vlans = vlans
        self.ttl = ttl
        self.identification = identification
        self.dontFragment = dontFragment
    }
}

/// A TCP option, encoded in the given order and padded with end-of-list bytes to 4-byte words.
public enum TCPOption: Hashable, Sendable {
    case endOfList
    case noOperation
    case maximumSegmentSize(UInt16)
    case windowScale(UInt8)
    case sackPermitted
    case timestamps(value: UInt32, echoReply: UInt32)
    /// Any other option, bytes as they go on the wire (kind, length, data).
    case raw([UInt8])

    /// What a Linux SYN carries: MSS 1460, SACK permitted, window scale 7.
    public static let synDefaults: [TCPOption] = [.maximumSegmentSize(1460), .sackPermitted, .noOperation, .windowScale(7)]

    var bytes: [UInt8] {
        switch self {
        case .endOfList: [0]
        case .noOperation: [1]
        case .maximumSegmentSize(let v): [2, 4, UInt8(v >> 8), UInt8(v & 0xff)]
        case .windowScale(let s): [3, 3, s]
        case .sackPermitted: [4, 2]
        case .timestamps(let v, let e): [8, 10] + bigEndianBytes(v) + bigEndianBytes(e)
        case .raw(let b): b
        }
    }
}

/// Which ICMP / ICMPv6 error to build; the type and code follow the offending packet's family.
public enum ICMPErrorKind: Hashable, Sendable {
    /// v4 type 3 code 3; v6 type 1 code 4.
    case portUnreachable
    /// v4 type 3 code 1; v6 type 1 code 3.
    case hostUnreachable
    /// v4 type 3 code 13; v6 type 1 code 1.
    case administrativelyProhibited
    /// v4 type 3 code 4 with the next-hop MTU; v6 type 2 (packet too big).
    case fragmentationNeeded(mtu: UInt32)
    /// v4 type 11 code 0; v6 type 3 code 0.
    case timeExceeded

    func typeAndCode(ipv6: Bool) -> (UInt8, UInt8) {
        switch self {
        case .portUnreachable: ipv6 ? (1, 4) : (3, 3)
        case .hostUnreachable: ipv6 ? (1, 3) : (3, 1)
        case .administrativelyProhibited: ipv6 ? (1, 1) : (3, 13)
        case .fragmentationNeeded: ipv6 ? (2, 0) : (3, 4)
        case .timeExceeded: ipv6 ? (3, 0) : (11, 0)
        }
    }
}

@inline(__always)
func bigEndianBytes(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
}

@inline(__always)
func bigEndianBytes(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
