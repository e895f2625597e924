import Conntrack
import PacketParsing

/// The fields a flow can match, in a small fixed layout: seven 64-bit words, no references, so
/// that masking, comparing and hashing a key are a handful of integer operations.
///
/// The same type serves as a key (a packet's fields) and as a mask (1 bits are matched).
///
/// Word layout (fixed; `masked(by:)`, `==` and `hash64` read the words):
/// - `w0`, `w1`: source address, high and low halves (IPv4 stored v4-mapped, as `IPAddress`)
/// - `w2`, `w3`: destination address, high and low halves
/// - `w4`: `in_port` (bits 63..32), `ct_mark` (bits 31..0)
/// - `w5`: `dl_type` (63..48), `tp_src` (47..32), `tp_dst` (31..16), `ct_zone` (15..0)
/// - `w6`: `nw_proto` (15..8), `ct_state` (7..0)
///
/// For ICMP and ICMPv6, `tp_src` and `tp_dst` hold the ICMP type and code (as in OVS).
public struct MatchKey: Hashable, Sendable {
    @usableFromInline var w0: UInt64 = 0
    @usableFromInline var w1: UInt64 = 0
    @usableFromInline var w2: UInt64 = 0
    @usableFromInline var w3: UInt64 = 0
    @usableFromInline var w4: UInt64 = 0
    @usableFromInline var w5: UInt64 = 0
    @usableFromInline var w6: UInt64 = 0

    /// All fields zero (as a mask: matches everything).
    @inlinable public init() {}

    /// The key of an IPv4/IPv6 packet as the parser saw it, plus its in_port and ct fields
    /// (untracked packets: `ctState` empty, zone 0, mark 0).
    ///
    /// dl_type comes from the key's family (0x0800 / 0x86DD); tp_src/tp_dst are the ports for
    /// TCP, UDP and SCTP, the ICMP type and code for ICMP/ICMPv6, and 0 otherwise (later
    /// fragments carry no transport header: 0).
    @inlinable
    public init(packet: ParsedPacket, inPort: UInt32, ctState: CTState = [], ctZone: UInt16 = 0, ctMark: UInt32 = 0) {
        let key = packet.key
        w0 = key.src.high
        w1 = key.src.low
        w2 = key.dst.high
        w3 = key.dst.low
        self.inPort = inPort
        self.ctMark = ctMark
        dlType = key.family == .ipv4 ? EtherType.ipv4 : EtherType.ipv6
        switch key.proto {
        case IPProtocol.tcp, IPProtocol.udp, IPProtocol.sctp:
            if packet.fragment != .later {
                tpSrc = key.srcPort
                tpDst = key.dstPort
            }
        case IPProtocol.icmp, IPProtocol.icmpv6:
            if packet.fragment != .later {
                tpSrc = UInt16(packet.icmpType)
                tpDst = UInt16(packet.icmpCode)
            }
        default:
            break
        }
        self.ctZone = ctZone
        nwProto = key.proto
        self.ctState = ctState
    }

    /// The key of a frame without IP fields (ARP and other ethertypes): dl_type and in_port,
    /// plus ct fields (non-IP frames never go through ct, so these are normally left empty).
    @inlinable
    public init(etherType: UInt16, inPort: UInt32, ctState: CTState = [], ctZone: UInt16 = 0, ctMark: UInt32 = 0) {
        dlType = etherType
        self.inPort = inPort
        self.ctState = ctState
        self.ctZone = ctZone
        self.ctMark = ctMark
    }

    // MARK: Fields

    @inlinable public var src: IPAddress {
        get { IPAddress(high: w0, low: w1) }
        set { w0 = newValue.high; w1 = newValue.low }
    }
    @inlinable public var dst: IPAddress {
        get { IPAddress(high: w2, low: w3) }
        set { w2 = newValue.high; w3 = newValue.low }
    }
    @inlinable public var inPort: UInt32 {
        get { UInt32(truncatingIfNeeded: w4 >> 32) }
        set { w4 = (w4 & 0x0000_0000_FFFF_FFFF) | UInt64(newValue) << 32 }
    }
    @inlinable public var ctMark: UInt32 {
        get { UInt32(truncatingIfNeeded: w4) }
        set { w4 = (w4 & 0xFFFF_FFFF_0000_0000) | UInt64(newValue) }
    }
    @inlinable public var dlType: UInt16 {
        get { UInt16(truncatingIfNeeded: w5 >> 48) }
        set { w5 = (w5 & ~(0xFFFF << 48)) | UInt64(newValue) << 48 }
    }
    @inlinable public var tpSrc: UInt16 {
        get { UInt16(truncatingIfNeeded: w5 >> 32) }
        set { w5 = (w5 & ~(0xFFFF << 32)) | UInt64(newValue) << 32 }
    }
    @inlinable public var tpDst: UInt16 {
        get { UInt16(truncatingIfNeeded: w5 >> 16) }
        set { w5 = (w5 & ~(0xFFFF << 16)) | UInt64(newValue) << 16 }
    }
    @inlinable public var ctZone: UInt16 {
        get { UInt16(truncatingIfNeeded: w5) }
        set { w5 = (w5 & ~0xFFFF) | UInt64(newValue) }
    }
    @inlinable public var nwProto: UInt8 {
        get { UInt8(truncatingIfNeeded: w6 >> 8) }
        set { w6 = (w6 & ~(0xFF << 8)) | UInt64(newValue) << 8 }
    }
    /// The ct_state bits (`CTState` raw values, as OVS numbers them).
    @inlinable public var ctState: CTState {
        get { CTState(rawValue: UInt8(truncatingIfNeeded: w6)) }
        set { w6 = (w6 & ~0xFF) | UInt64(newValue.rawValue) }
    }

    // MARK: Masking and hashing

    /// This key with only the bits set in `mask` kept.
    @inlinable
    public func masked(by mask: MatchKey) -> MatchKey {
        var k = MatchKey()
        k.w0 = w0 & mask.w0
        k.w1 = w1 & mask.w1
        k.w2 = w2 & mask.w2
        k.w3 = w3 & mask.w3
        k.w4 = w4 & mask.w4
        k.w5 = w5 & mask.w5
        k.w6 = w6 & mask.w6
        return k
    }

    /// Bitwise AND (for masks: the bits both match).
    @inlinable
    public static func & (a: MatchKey, b: MatchKey) -> MatchKey { a.masked(by: b) }

    /// Word by word, without branches (the synthesised `==` compares through `memcmp`, a call
    /// per probe of the classifier). Consistent with the synthesised `hash(into:)`: same words.
    @inlinable @inline(__always)
    public static func == (a: MatchKey, b: MatchKey) -> Bool {
        ((a.w0 ^ b.w0) | (a.w1 ^ b.w1) | (a.w2 ^ b.w2) | (a.w3 ^ b.w3) | (a.w4 ^ b.w4) | (a.w5 ^ b.w5)
            | (a.w6 ^ b.w6)) == 0
    }

    /// Whether every field is zero (as a mask: a catch-all).
    @inlinable
    public var isZero: Bool { (w0 | w1 | w2 | w3 | w4 | w5 | w6) == 0 }

    /// A fast 64-bit hash of the seven words (multiply-rotate mixing, murmur3 finaliser); the
    /// classifier's hash tables index with it. Not keyed: flow tables are built from trusted
    /// configuration, not from packet contents.
    @inlinable
    public var hash64: UInt64 {
        @inline(__always) get {
            @inline(__always) func mix(_ h: UInt64, _ w: UInt64) -> UInt64 {
                let x = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
                return (x << 29) | (x >> 35)
            }
            var h: UInt64 = 0x6A09_E667_F3BC_C909
            h = mix(h, w0)
            h = mix(h, w1)
            h = mix(h, w2)
            h = mix(h, w3)
            h = mix(h, w4)
            h = mix(h, w5)
            h = mix(h, w6)
            h ^= h >> 33
            h &*= 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 33
            h &*= 0xC4CE_B9FE_1A85_EC53
            h ^= h >> 33
            return h
        }
    }
}

/// Ethertypes the flow language knows by name.
public enum EtherType {
    public static let ipv4: UInt16 = 0x0800
    public static let arp: UInt16 = 0x0806
    public static let ipv6: UInt16 = 0x86DD
}
