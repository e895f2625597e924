/// How an IP packet relates to fragmentation.
public enum FragmentKind: UInt8, Sendable {
    /// Not a fragment.
    case none = 0
    /// The first fragment (offset 0, more-fragments set): carries the L4 header.
    case first
    /// A later fragment (offset > 0): no L4 header, ports in the key are 0.
    case later
}

/// TCP header flags as they appear in byte 13 of the header.
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    /// Flags from byte 13 of a TCP header.
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    @inlinable public static var fin: TCPFlags { TCPFlags(rawValue: 0x01) }
    @inlinable public static var syn: TCPFlags { TCPFlags(rawValue: 0x02) }
    @inlinable public static var rst: TCPFlags { TCPFlags(rawValue: 0x04) }
    @inlinable public static var psh: TCPFlags { TCPFlags(rawValue: 0x08) }
    @inlinable public static var ack: TCPFlags { TCPFlags(rawValue: 0x10) }
    @inlinable public static var urg: TCPFlags { TCPFlags(rawValue: 0x20) }
    @inlinable public static var ece: TCPFlags { TCPFlags(rawValue: 0x40) }
    @inlinable public static var cwr: TCPFlags { TCPFlags(rawValue: 0x80) }
}

/// Everything the datapath needs from one packet's headers, as offsets into the captured bytes
/// (zero-copy: nothing is copied out but these fields). A plain value with no references.
///
/// Offsets are from the start of the captured frame. Fields that do not apply to the packet's
/// protocol are 0 (and `tcpWindowScale` is `TCPWindowScale.absent`).
public struct ParsedPacket: Sendable {
    /// Addresses, ports (or ICMP echo id), protocol, family. `zone` is left 0 by the parser.
    /// (The default is spelled out rather than `FlowKey.empty` so that `init()` inlined into
    /// the hot path needs no global accessor.)
    public var key: FlowKey = FlowKey(
        src: IPAddress(high: 0, low: 0), dst: IPAddress(high: 0, low: 0),
        srcPort: 0, dstPort: 0, proto: 0, family: .ipv4)
    /// Ethertype of the IP header (0x0800 / 0x86DD) after any VLAN tags.
    public var etherType: UInt16 = 0
    /// Number of VLAN tags seen (802.1Q, 802.1ad, QinQ), and the outermost VLAN id.
    public var vlanCount: UInt8 = 0
    public var outerVLAN: UInt16 = 0

    /// Start of the IP header (of the ARP header for `.arp` frames), and the IP packet's length as its header says (total length for
    /// v4, 40 + payload length for v6), which may be less than the captured bytes (padding).
    public var l3Offset: UInt32 = 0
    public var l3Length: UInt32 = 0
    /// Start of the transport header (after IPv4 options / IPv6 extension headers).
    public var l4Offset: UInt32 = 0
    /// Start and length of the transport payload, bounded by the IP length and by the capture.
    public var payloadOffset: UInt32 = 0
    public var payloadLength: UInt32 = 0
    /// True when the capture was cut short (snap length) so the payload is not all there.
    public var payloadTruncated: Bool = false

    public var fragment: FragmentKind = .none
    public var ipTTL: UInt8 = 0

    // TCP
    /// (Not `[]`: the array-literal default compiles to an out-of-line call in client modules.)
    public var tcpFlags: TCPFlags = TCPFlags(rawValue: 0)
    public var tcpSeq: UInt32 = 0
    public var tcpAck: UInt32 = 0
    public var tcpWindow: UInt16 = 0
    /// The window-scale option's shift count (SYN segments), or `TCPWindowScale.absent`.
    /// (0xFF is `TCPWindowScale.absent`, spelled as a literal for the same reason as `key`.)
    public var tcpWindowScale: UInt8 = 0xFF

    // ICMP / ICMPv6
    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0
    /// For ICMP error messages: offset of the embedded (offending) IP header; 0 when none.
    /// `PacketParser.parseEmbedded` turns it into the key of the connection it belongs to.
    public var icmpInnerOffset: UInt32 = 0

    /// An all-zero packet (window scale absent), for the parser to fill in.
    @inlinable public init() {}

    /// Whether the network header is IPv6.
    @inlinable public var isIPv6: Bool { key.family == .ipv6 }
}

/// Window-scale option values.
public enum TCPWindowScale {
    /// Marker for "no window-scale option in this segment".
    @inlinable public static var absent: UInt8 { 0xFF }
}
