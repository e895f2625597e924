/// Big-endian and host-order readers over captured bytes; callers check bounds first.
extension PacketParser {
    /// One byte at `offset`. The caller has checked `offset < frame.count`.
    @inlinable @inline(__always)
    static func u8(_ frame: UnsafeRawBufferPointer, _ offset: Int) -> UInt8 {
        frame.load(fromByteOffset: offset, as: UInt8.self)
    }

    /// A big-endian 16-bit field at `offset`. The caller has checked `offset + 2 <= frame.count`.
    @inlinable @inline(__always)
    static func be16(_ frame: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(bigEndian: frame.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// A big-endian 32-bit field at `offset`. The caller has checked `offset + 4 <= frame.count`.
    @inlinable @inline(__always)
    static func be32(_ frame: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        UInt32(bigEndian: frame.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// A big-endian 64-bit field at `offset`. The caller has checked `offset + 8 <= frame.count`.
    @inlinable @inline(__always)
    static func be64(_ frame: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
        UInt64(bigEndian: frame.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// A 32-bit field in this machine's byte order (DLT_NULL's family word).
    /// The caller has checked `offset + 4 <= frame.count`.
    @inlinable @inline(__always)
    static func host32(_ frame: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        frame.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
    }

    /// An offset or length known to be far below 2^32 (frames are bounded by the 64 KiB IP
    /// length plus link and extension headers), stored in a `ParsedPacket` field.
    @inlinable @inline(__always)
    static func u32(_ value: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: value)
    }
}

/// Ethertypes the parser recognises.
/// (Computed and inlinable rather than `static let`, so that inlined code in client modules
/// folds them to constants instead of calling a global accessor.)
@usableFromInline
enum EtherType {
    @inlinable static var ipv4: UInt16 { 0x0800 }
    @inlinable static var arp: UInt16 { 0x0806 }
    @inlinable static var ipv6: UInt16 { 0x86DD }
    /// 802.1Q customer tag.
    @inlinable static var vlan: UInt16 { 0x8100 }
    /// 802.1ad service tag (QinQ outer tag).
    @inlinable static var qinq: UInt16 { 0x88A8 }
    /// The pre-standard QinQ tag some switches still send.
    @inlinable static var qinqLegacy: UInt16 { 0x9100 }
}
