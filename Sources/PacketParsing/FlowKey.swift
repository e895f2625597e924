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
    /// Ports, zone, protocol and family in one word, so that `==`, the reverse match and the
    /// hash read them with one load (as separate fields, the look-up's key compare assembled
    /// this word from five loads, per probed entry): source port in bits 0-15, destination port
    /// 16-31, zone 32-47, protocol 48-55, the family's case (not its raw value) 56-63.
    @usableFromInline var tail: UInt64

    @inlinable public var srcPort: UInt16 {
        get { UInt16(truncatingIfNeeded: tail) }
        set { tail = tail & ~0xFFFF | UInt64(newValue) }
    }

    @inlinable public var dstPort: UInt16 {
        get { UInt16(truncatingIfNeeded: tail >> 16) }
        set { tail = tail & ~(0xFFFF << 16) | UInt64(newValue) << 16 }
    }

    @inlinable public var zone: UInt16 {
        get { UInt16(truncatingIfNeeded: tail >> 32) }
        set { tail = tail & ~(0xFFFF << 32) | UInt64(newValue) << 32 }
    }

    @inlinable public var proto: UInt8 {
        get { UInt8(truncatingIfNeeded: tail >> 48) }
        set { tail = tail & ~(0xFF << 48) | UInt64(newValue) << 48 }
    }

    @inlinable public var family: AddressFamily {
        // The byte holds a case the setter stored, so the bit cast always names a case.
        get { unsafeBitCast(UInt8(truncatingIfNeeded: tail >> 56), to: AddressFamily.self) }
        set { tail = tail & 0x00FF_FFFF_FFFF_FFFF | UInt64(unsafeBitCast(newValue, to: UInt8.self)) << 56 }
    }

    /// A key from its fields; `zone` defaults to 0 (the parser never sets it).
    @inlinable
    public init(
        src: IPAddress, dst: IPAddress, srcPort: UInt16, dstPort: UInt16,
        proto: UInt8, family: AddressFamily, zone: UInt16 = 0
    ) {
        self.src = src
        self.dst = dst
        self.tail = UInt64(srcPort) | UInt64(dstPort) << 16 | UInt64(zone) << 32 | UInt64(proto) << 48
            | UInt64(unsafeBitCast(family, to: UInt8.self)) << 56
    }

    /// Ports, zone, protocol and family as one word (the layout `tail` documents): for a store
    /// that keeps a key's words apart (`Connection`) and compares them itself.
    @inlinable public var tailWord: UInt64 { tail }

    /// `tailWord` of the reverse direction: the ports swapped.
    @inlinable @inline(__always)
    public var reversedTailWord: UInt64 {
        tail & ~0xFFFF_FFFF | (tail & 0xFFFF) << 16 | (tail >> 16) & 0xFFFF
    }

    /// A key from its addresses and a `tailWord`.
    @inlinable
    public init(src: IPAddress, dst: IPAddress, tailWord: UInt64) {
        self.src = src
        self.dst = dst
        self.tail = tailWord
    }

    /// Field-wise equality as one branch-free XOR/OR chain (the synthesised `==` became a
    /// `memcmp` call on the look-up path).
    @inlinable @inline(__always)
    public static func == (a: FlowKey, b: FlowKey) -> Bool {
        ((a.src.high ^ b.src.high) | (a.src.low ^ b.src.low) | (a.dst.high ^ b.dst.high)
            | (a.dst.low ^ b.dst.low) | (a.tail ^ b.tail)) == 0
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
