/// The symmetric, seeded flow hash: both directions of a connection hash alike, so one hash
/// picks the shard and the conntrack bucket for either direction (compute once, pass it down).
extension FlowKey {
    /// Hash of the key that is the same for `self` and `self.reversed`.
    ///
    /// Each endpoint (address, port) is mixed on its own (two multiply-xorshift rounds) and the
    /// two are combined with a commutative `&+`; protocol, family and zone are then folded in
    /// and the result finalised once. (Each endpoint had its own finaliser too: four more
    /// multiplies on the per-packet path, no better spread in the index or across shards.)
    /// `&+` and `&*` wrap on purpose: this is hashing, overflow is the point.
    @inlinable @inline(__always)
    public func symmetricHash(seed: UInt64) -> UInt64 {
        let a = FlowKey.mixEndpoint(src, srcPort, seed)
        let b = FlowKey.mixEndpoint(dst, dstPort, seed)
        let rest = UInt64(proto) | UInt64(family.rawValue) << 8 | UInt64(zone) << 16
        return FlowKey.finalize((a &+ b) ^ (rest &* 0x9E37_79B9_7F4A_7C15))
    }

    @inlinable @inline(__always)
    static func mixEndpoint(_ address: IPAddress, _ port: UInt16, _ seed: UInt64) -> UInt64 {
        var h = seed ^ address.high
        h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
        h ^= address.low
        h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
        h ^= UInt64(port) &* 0x9E37_79B9_7F4A_7C15
        return h ^ (h >> 29)
    }

    /// The murmur3 64-bit finaliser: every input bit affects every output bit.
    @inlinable @inline(__always)
    static func finalize(_ x: UInt64) -> UInt64 {
        var h = x
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }
}
