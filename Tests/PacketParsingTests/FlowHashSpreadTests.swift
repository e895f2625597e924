/// The flow hash spreads structured IPv4 and IPv6 key sets evenly over an index's home slots and
/// over shards, and gives distinct keys distinct hashes: the properties the table and the
/// sharding rely on, checked on the shapes real traffic has (sequential clients, one NAT address,
/// address pairs whose sums coincide, an IPv6 /64), not on random keys alone.
import PacketParsing
import Testing

@Suite struct FlowHashSpreadTests {
    static let seed: UInt64 = 0x5EED_C0DE_F00D_CAFE
    static let keysPerSet = 1 << 17
    /// Home-slot buckets: the upper 32 bits of the hash under a mask, as `FlowIndex` places.
    static let buckets = 1 << 13

    enum KeySet: String, CaseIterable, CustomTestStringConvertible {
        /// 10.0.0.0/8 clients counting up, one port each, to one server.
        case sequentialClients
        /// One NAT address, every source port, to 2 servers.
        case oneNATAddress
        /// Pairs whose address sums coincide (10.0.0.1 <> 10.0.0.4, 10.0.0.2 <> 10.0.0.3, ...),
        /// the same ports: an additive mix of the endpoints would collide on all of them.
        case equalAddressSums
        /// IPv6 clients of one /64 counting up, to one server.
        case ipv6Subnet

        var testDescription: String { rawValue }

        func key(_ i: Int) -> FlowKey {
            let n = UInt32(truncatingIfNeeded: i)
            switch self {
            case .sequentialClients:
                return FlowKey(src: IPAddress(v4: 0x0A00_0000 | n), dst: IPAddress(v4: 0xC0A8_0001),
                               srcPort: 40_000, dstPort: 443, proto: 6, family: .ipv4)
            case .oneNATAddress:
                return FlowKey(src: IPAddress(v4: 0xCB00_7101), dst: IPAddress(v4: 0xC0A8_0001 + n & 1),
                               srcPort: UInt16(truncatingIfNeeded: n >> 1), dstPort: 443, proto: 6, family: .ipv4)
            case .equalAddressSums:
                // 64 pairs (p, t - p) for each total t from 1,000 up: the pairs of one total
                // have the same address sum, and no pair is another reversed.
                let total = UInt32(1_000 + i / 64), part = UInt32(1 + i % 64)
                return FlowKey(src: IPAddress(v4: 0x0A00_0000 | part), dst: IPAddress(v4: 0x0A00_0000 | (total - part)),
                               srcPort: 5_000, dstPort: 80, proto: 6, family: .ipv4)
            case .ipv6Subnet:
                return FlowKey(src: IPAddress(high: 0x2001_0DB8_0000_0001, low: UInt64(n) &* 7),
                               dst: IPAddress(high: 0x2001_0DB8_0000_0002, low: 1),
                               srcPort: 50_000, dstPort: 443, proto: 6, family: .ipv6)
            }
        }
    }

    /// Chi-square over the home-slot buckets, divided by their count: about 1 for a random
    /// spread (the standard deviation of the ratio is sqrt(2 / buckets), 0.016 here); below 1 is
    /// a spread more even than random (a multiplicative hash of counting inputs), above it
    /// clumps, which is what would lengthen probes.
    @Test(arguments: KeySet.allCases)
    func spreadsOverHomeSlotsAndShards(set: KeySet) {
        var counts = [Int](repeating: 0, count: Self.buckets)
        var hashes = Set<UInt64>()
        var shards = [0, 0, 0]
        for i in 0..<Self.keysPerSet {
            let key = set.key(i)
            let h = key.symmetricHash(seed: Self.seed)
            hashes.insert(h)
            counts[Int(truncatingIfNeeded: h >> 32) & (Self.buckets - 1)] += 1
            shards[Int(truncatingIfNeeded: ((h >> 32) &* 3) >> 32)] += 1  // as `ShardRouting` picks
        }
        let expected = Double(Self.keysPerSet) / Double(Self.buckets)
        let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        let ratio = chiSquare / Double(Self.buckets)
        #expect(ratio < 1.08, "chi-square per bucket \(ratio)")
        #expect(hashes.count == Self.keysPerSet, "\(Self.keysPerSet - hashes.count) full-hash collisions")
        for count in shards {
            #expect(abs(Double(count) / Double(Self.keysPerSet) - 1.0 / 3.0) < 0.01, "shares \(shards)")
        }
    }
}
