/// FlowKey layout and the symmetric seeded hash.
import Testing
import PacketParsing

@Suite struct FlowKeyTests {
    static let v4 = FlowKey(src: A, dst: B, srcPort: 49152, dstPort: 80, proto: 6, family: .ipv4)
    static let v6 = FlowKey(src: A6, dst: B6, srcPort: 5353, dstPort: 53, proto: 17, family: .ipv6)

    /// The key is 40 bytes with no padding surprises. `==` (synthesised) and `symmetricHash`
    /// both read every field: a field added to FlowKey must be added to the hash too, and this
    /// size updated, together.
    @Test func layout() {
        #expect(MemoryLayout<FlowKey>.size == 40)
        #expect(MemoryLayout<FlowKey>.stride == 40)
        #expect(MemoryLayout<IPAddress>.size == 16)
    }

    /// Ports, zone, protocol and family share one word: setting one leaves the others alone.
    @Test func fieldsShareOneWordWithoutDisturbingEachOther() {
        var k = Self.v6
        k.srcPort = 0xFFFF
        k.zone = 0xFFFF
        #expect(k.dstPort == 53 && k.proto == 17 && k.family == .ipv6)
        k.dstPort = 0
        k.proto = 0xFF
        k.family = .ipv4
        #expect(k.srcPort == 0xFFFF && k.dstPort == 0 && k.zone == 0xFFFF && k.proto == 0xFF && k.family == .ipv4)
        k.family = .ipv6
        k.srcPort = 1
        #expect(k.srcPort == 1 && k.zone == 0xFFFF && k.proto == 0xFF && k.family == .ipv6 && k.src == A6)
        #expect(k == FlowKey(src: A6, dst: B6, srcPort: 1, dstPort: 0, proto: 0xFF, family: .ipv6, zone: 0xFFFF))
    }

    @Test func reversed() {
        let r = Self.v4.reversed
        #expect(r.src == B && r.dst == A && r.srcPort == 80 && r.dstPort == 49152)
        #expect(r.proto == 6 && r.family == .ipv4 && r.reversed == Self.v4)
    }

    @Test(arguments: [UInt64(0), 1, 0xdead_beef_cafe_f00d])
    func symmetric(seed: UInt64) {
        #expect(Self.v4.symmetricHash(seed: seed) == Self.v4.reversed.symmetricHash(seed: seed))
        #expect(Self.v6.symmetricHash(seed: seed) == Self.v6.reversed.symmetricHash(seed: seed))
        var zoned = Self.v6
        zoned.zone = 7
        #expect(zoned.symmetricHash(seed: seed) == zoned.reversed.symmetricHash(seed: seed))
    }

    /// Keys parsed from a request and its reply hash alike.
    @Test func parsedDirectionsHashAlike() {
        let request = parse(ICMPTests.echoRequest).1.key
        let reply = parse(ICMPTests.echoReply).1.key
        #expect(request.symmetricHash(seed: 42) == reply.symmetricHash(seed: 42))
    }

    @Test func differentKeysDiffer() {
        let seed: UInt64 = 0x1234
        let h = Self.v4.symmetricHash(seed: seed)
        var other = Self.v4
        other.srcPort = 49153
        #expect(other.symmetricHash(seed: seed) != h)
        other = Self.v4
        other.dst = IPAddress(v4: 0x0a00_0003)
        #expect(other.symmetricHash(seed: seed) != h)
        other = Self.v4
        other.proto = 17
        #expect(other.symmetricHash(seed: seed) != h)
        // Swapping only the ports (not the addresses) is a different connection.
        other = Self.v4
        other.srcPort = 80
        other.dstPort = 49152
        #expect(other.symmetricHash(seed: seed) != h)
        #expect(Self.v6.symmetricHash(seed: seed) != h)
    }

    /// No choice of inputs collides for every seed: an IPv6 sender that varies the low bits of
    /// its prefix and its source port together (so that an unseeded `high ^ port` would stay
    /// the same) still spreads over the index and the shards.
    @Test func addressAndPortVariedTogetherDoNotCollide() {
        var hashes = Set<UInt64>(), homes = Set<UInt64>()
        for d in 0..<4_096 as Range<UInt64> {
            let key = FlowKey(src: IPAddress(high: 0x2001_0DB8_0001_0000 ^ d, low: 1), dst: B6,
                              srcPort: UInt16(truncatingIfNeeded: 40_000 ^ d), dstPort: 443, proto: 6, family: .ipv6)
            let h = key.symmetricHash(seed: 0x5EED)
            hashes.insert(h)
            homes.insert((h >> 32) & 0xFFFF)  // a 65,536-slot index's home slot
        }
        #expect(hashes.count == 4_096)
        #expect(homes.count > 3_900)  // random placement leaves ~3,970 distinct of 4,096
    }

    @Test func zonesDiffer() {
        var zoned = Self.v4
        zoned.zone = 1
        #expect(zoned.symmetricHash(seed: 9) != Self.v4.symmetricHash(seed: 9))
        #expect(zoned != Self.v4)
    }

    @Test func seedsDiffer() {
        #expect(Self.v4.symmetricHash(seed: 1) != Self.v4.symmetricHash(seed: 2))
        #expect(Self.v6.symmetricHash(seed: 1) != Self.v6.symmetricHash(seed: 2))
    }

    /// Over many distinct keys the hash does not collide (a weak but concrete spread check).
    @Test func fewCollisions() {
        var seen = Set<UInt64>()
        for port in UInt16(1)...2000 {
            let key = FlowKey(src: A, dst: B, srcPort: port, dstPort: 443, proto: 6, family: .ipv4)
            seen.insert(key.symmetricHash(seed: 7))
        }
        #expect(seen.count == 2000)
    }

    @Test func description() {
        #expect(Self.v4.description == "tcp 10.0.0.1:49152 > 10.0.0.2:80 zone 0")
        #expect(Self.v6.description == "udp 2001:db8::1:5353 > 2001:db8::2:53 zone 0")
    }
}
