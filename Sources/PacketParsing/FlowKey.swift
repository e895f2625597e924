/// The address family of a flow key.
public enum AddressFamily: UInt8, Sendable {
    case ipv4 = 4
    case ipv6 = 6
}

/// The 5-tuple plus zone that identifies one direction of a connection: 40 bytes, no references,
/// so the hot path copies and compares it without allocating.
///
/// Ports hold the TCP/UDP/SCTP ports; for ICMP and ICMPv6 echo messages both hold the echo
/// identifier (so a reply's key is the request's key reversed); for other protocols, and for
/// later IP fragments, both are 0.
///
/// The memory layout is pinned by a test (`FlowKeyLayoutTests`): `==` and the hash read the same
/// fields, so a field added here must be added to both.
public struct FlowKey: Equatable, Hashable, Sendable {
    public var src: IPAddress
    public var dst: IPAddress
    public var srcPort: UInt16
    public var dstPort: UInt16
    public var zone: UInt16
    public var proto: UInt8
    public var family: AddressFamily

    /// A key from its fields; `zone` defaults to 0 (the parser never sets it).
    @inlinable
    public init(
        src: IPAddress, dst: IPAddress, srcPort: UInt16, dstPort: UInt16,
        proto: UInt8, family: AddressFamily, zone: UInt16 = 0
    ) {
        self.src = src
        self.dst = dst
        self.srcPort = srcPort
        self.dstPort = dstPort
        self.zone = zone
        self.proto = proto
        self.family = family
    }

    /// Ports, zone, protocol and family packed into one word, for branch-free comparison.
    @inlinable @inline(__always)
    var packedTail: UInt64 {
        UInt64(srcPort) | UInt64(dstPort) << 16 | UInt64(zone) << 32 | UInt64(proto) << 48
            | UInt64(family.rawValue) << 56
    }

    /// Field-wise equality as one branch-free XOR/OR chain (the synthesised `==` became a
    /// `memcmp` call on the look-up path).
    @inlinable @inline(__always)
    public static func == (a: FlowKey, b: FlowKey) -> Bool {
        ((a.src.high ^ b.src.high) | (a.src.low ^ b.src.low) | (a.dst.high ^ b.dst.high)
            | (a.dst.low ^ b.dst.low) | (a.packedTail ^ b.packedTail)) == 0
    }

    /// An all-zero IPv4 key, for initialising storage.
    public static let empty = FlowKey(
        src: .zero, dst: .zero, srcPort: 0, dstPort: 0, proto: 0, family: .ipv4)

    /// The key of the other direction: addresses and ports swapped.
    @inlinable
    public var reversed: FlowKey {
        FlowKey(src: dst, dst: src, srcPort: dstPort, dstPort: srcPort,
                proto: proto, family: family, zone: zone)
    }
}

/// IP protocol numbers the parser and conntrack know by name.
public enum IPProtocol {
    @inlinable public static var icmp: UInt8 { 1 }
    @inlinable public static var tcp: UInt8 { 6 }
    @inlinable public static var udp: UInt8 { 17 }
    @inlinable public static var icmpv6: UInt8 { 58 }
    @inlinable public static var sctp: UInt8 { 132 }
}

extension FlowKey: CustomStringConvertible {
    /// `tcp 10.0.0.1:49152 > 10.0.0.2:80 zone 0`, for logs and test messages.
    public var description: String {
        let name: String
        switch proto {
        case IPProtocol.tcp: name = "tcp"
        case IPProtocol.udp: name = "udp"
        case IPProtocol.icmp: name = "icmp"
        case IPProtocol.icmpv6: name = "icmp6"
        default: name = "proto\(proto)"
        }
        return "\(name) \(src):\(srcPort) > \(dst):\(dstPort) zone \(zone)"
    }
}
