/// The symmetric, seeded flow hash: both directions of a connection hash alike, so one hash
/// picks the shard and the conntrack bucket for either direction (compute once, pass it down).
extension FlowKey {
    /// Hash of the key that is the same for `self` and `self.reversed`.
    ///
    /// Each endpoint (address, port) is mixed on its own, the two are combined with a
    /// commutative `&+`, protocol, family and zone are folded in, and one multiply-xorshift
    /// round finishes (the shard and index bits are the upper 32). An endpoint is three
    /// independent multiplies, of the seeded lower and upper address halves and of the port,
    /// so its latency is one multiply: the slot prefetch waits for this hash, and the previous
    /// chain of nine dependent multiplies held most of the staging loop's samples (anchor:
    /// +2.5%). Every input reaches the result through the seed, so no choice of addresses and
    /// ports collides for every seed (XORing the port into an address half would have: an
    /// IPv6 sender varying its address and port together). `&+` and `&*` wrap on purpose:
    /// this is hashing, overflow is the point.
    @inlinable @inline(__always)
    public func symmetricHash(seed: UInt64) -> UInt64 {
        let a = FlowKey.mixEndpoint(src, srcPort, seed)
        let b = FlowKey.mixEndpoint(dst, dstPort, seed)
        let rest = UInt64(proto) | UInt64(family.rawValue) << 8 | UInt64(zone) << 16
        var h = (a &+ b) ^ (rest << 40)
        h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return h ^ (h >> 29)
    }

    /// One endpoint: the seeded address halves and the port, each multiplied by its own odd
    /// constant (a bijection), xored, with the lower half's top bits folded down.
    @inlinable @inline(__always)
    static func mixEndpoint(_ address: IPAddress, _ port: UInt16, _ seed: UInt64) -> UInt64 {
        let low = (address.low ^ seed) &* 0x9E37_79B9_7F4A_7C15
        let high = (address.high ^ (seed >> 3)) &* 0xFF51_AFD7_ED55_8CCD
        let spreadPort = UInt64(port) &* 0xC4CE_B9FE_1A85_EC53
        return low ^ high ^ spreadPort ^ (low >> 31)
    }
}
