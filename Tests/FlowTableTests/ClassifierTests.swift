import Conntrack
import PacketParsing
import Testing
@testable import FlowTable

/// Deterministic PRNG (SplitMix64) so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The reference: every flow of the table, highest priority, first listed among equals.
func linearLookup(_ flows: [Flow], table: UInt8, key: MatchKey) -> Int? {
    var best: Int?
    for (i, f) in flows.enumerated() where f.table == table && f.match.matches(key) {
        if best == nil || f.priority > flows[best!].priority { best = i }
    }
    return best
}

/// Random flows and keys from small value pools, so that keys hit flows often.
struct RandomTables {
    var rng: SplitMix64
    let ports: [UInt32] = [1, 2, 3]
    let v4: [UInt32] = [0x0A00_0001, 0x0A00_0102, 0x0A01_0001, 0xC0A8_0101]
    let v6: [IPAddress] = [IPAddress(high: 0x2001_0db8_0000_0000, low: 1), IPAddress(high: 0x2001_0db8_0001_0000, low: 2),
                           IPAddress(high: 0xFE80_0000_0000_0000, low: 0x1234)]
    let tp: [UInt16] = [21, 22, 69, 80, 443, 0x1000, 0x1001]

    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    mutating func pick<T>(_ a: [T]) -> T { a[Int.random(in: 0..<a.count, using: &rng)] }

    mutating func flow() -> Flow {
        var v = MatchKey(), m = MatchKey()
        if chance(0.3) { v.inPort = pick(ports); m.inPort = .max }
        let family = Int.random(in: 0..<4, using: &rng)  // 0: any, 1: v4, 2: v6, 3: arp
        if family > 0 {
            v.dlType = [0, EtherType.ipv4, EtherType.ipv6, EtherType.arp][family]; m.dlType = 0xFFFF
        }
        if family == 1 || family == 2 {
            if chance(0.6) { v.nwProto = pick([6, 17, 1]); m.nwProto = 0xFF }
            for src in [true, false] where chance(0.35) {
                if family == 1 {
                    let len = Int.random(in: 0...32, using: &rng)
                    let mask = len == 0 ? UInt32(0) : UInt32.max << UInt32(32 - len)
                    let a = IPAddress(high: 0, low: UInt64(pick(v4)))
                    let mk = IPAddress(high: 0, low: UInt64(mask))
                    if src { v.src = a; m.src = mk } else { v.dst = a; m.dst = mk }
                } else {
                    let mk = LineParser.prefixMask128(Int.random(in: 0...128, using: &rng))
                    if src { v.src = pick(v6); m.src = mk } else { v.dst = pick(v6); m.dst = mk }
                }
            }
            if m.nwProto != 0 && v.nwProto != 1 {
                if chance(0.4) { v.tpDst = pick(tp); m.tpDst = chance(0.7) ? 0xFFFF : pick([0xF000, 0xFFF0, 0xFFFE]) }
                if chance(0.2) { v.tpSrc = pick(tp); m.tpSrc = 0xFFFF }
            }
        }
        if chance(0.6) {
            let mask = UInt8.random(in: 0...0xFF, using: &rng) & 0x3F  // trk new est rel rpl inv
            v.ctState = CTState(rawValue: UInt8.random(in: 0...0xFF, using: &rng)); m.ctState = CTState(rawValue: mask)
        }
        if chance(0.1) { v.ctZone = UInt16.random(in: 0...2, using: &rng); m.ctZone = 0xFFFF }
        if chance(0.1) { v.ctMark = UInt32.random(in: 0...3, using: &rng); m.ctMark = pick([0xFFFF_FFFF, 1, 2]) }
        return Flow(table: UInt8.random(in: 0...2, using: &rng), priority: UInt16.random(in: 0...20, using: &rng),
                    match: FlowMatch(value: v, mask: m), actions: [.output(Int.random(in: 1...4, using: &rng))])
    }

    mutating func key() -> MatchKey {
        var k = MatchKey()
        k.inPort = pick(ports)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0:
            k.dlType = EtherType.ipv4
            k.src = IPAddress(v4: pick(v4) ^ (chance(0.3) ? UInt32.random(in: 0...0xFF, using: &rng) : 0))
            k.dst = IPAddress(v4: pick(v4))
        case 1:
            k.dlType = EtherType.ipv6
            k.src = pick(v6); k.dst = pick(v6)
            if chance(0.3) { k.dst.low ^= UInt64.random(in: 0...0xFFFF, using: &rng) }
        default:
            k.dlType = EtherType.arp
        }
        if k.dlType != EtherType.arp {
            k.nwProto = pick([6, 17, 1])
            k.tpSrc = pick(tp); k.tpDst = chance(0.8) ? pick(tp) : UInt16.random(in: 0...0xFFFF, using: &rng)
            k.ctState = CTState(rawValue: UInt8.random(in: 0...0x3F, using: &rng))
            k.ctZone = UInt16.random(in: 0...2, using: &rng)
            k.ctMark = UInt32.random(in: 0...3, using: &rng)
        }
        return k
    }
}

@Suite struct ClassifierRandomTests {
    @Test(arguments: [1, 2, 3, 4])
    func agreesWithLinearScan(seed: UInt64) {
        var gen = RandomTables(rng: SplitMix64(state: seed))
        let flows = (0..<Int(200 + 150 * seed)).map { _ in gen.flow() }
        let classifier = Classifier(flows)
        var hits = 0
        for _ in 0..<5000 {
            let key = gen.key()
            for table in UInt8(0)...3 {
                let expected = linearLookup(flows, table: table, key: key)
                let got = classifier.lookupIndex(table: table, key: key)
                if got != expected {
                    Issue.record("table \(table) key \(key): got \(String(describing: got)) expected \(String(describing: expected))")
                    return
                }
                if got != nil { hits += 1 }
                #expect(classifier.lookup(table: table, key: key) == expected.map { flows[$0] })
            }
        }
        #expect(hits > 2000)  // the pools make most lookups hit something
        #expect(classifier.maskCount(table: 0) > 10)
    }

    @Test func largeTableFewMasks() {
        // 20 000 exact 5-tuple flows: one mask group, and lookups stay exact.
        var flows: [Flow] = []
        var mask = MatchKey()
        mask.dlType = 0xFFFF; mask.nwProto = 0xFF; mask.src = IPAddress(high: 0, low: 0xFFFF_FFFF); mask.tpDst = 0xFFFF
        for i in 0..<20_000 {
            var v = MatchKey()
            v.dlType = EtherType.ipv4; v.nwProto = 6; v.src = IPAddress(v4: 0x0A00_0000 + UInt32(i)); v.tpDst = 80
            flows.append(Flow(priority: 10, match: FlowMatch(value: v, mask: mask), actions: [.output(i)]))
        }
        flows.append(Flow(priority: 0, actions: [.drop]))
        let classifier = Classifier(flows)
        #expect(classifier.maskCount(table: 0) == 2)
        var key = MatchKey()
        key.dlType = EtherType.ipv4; key.nwProto = 6; key.tpDst = 80
        for i in stride(from: 0, to: 20_000, by: 97) {
            key.src = IPAddress(v4: 0x0A00_0000 + UInt32(i))
            #expect(classifier.lookupIndex(table: 0, key: key) == i)
        }
        key.src = IPAddress(v4: 0x0B00_0000)
        #expect(classifier.lookupIndex(table: 0, key: key) == 20_000)
    }
}

@Suite struct ClassifierExactTests {
    func tcpKey(port: UInt32 = 1, state: CTState = [], dst: UInt32 = 0x0A00_0002, tpDst: UInt16 = 80) -> MatchKey {
        var p = ParsedPacket()
        p.key = FlowKey(src: IPAddress(v4: 0x0A00_0001), dst: IPAddress(v4: dst), srcPort: 40000, dstPort: tpDst,
                        proto: IPProtocol.tcp, family: .ipv4)
        return MatchKey(packet: p, inPort: port, ctState: state)
    }

    @Test func priorityTiesGoToTheFirstListed() throws {
        let flows = try FlowParser.parse("""
            priority=5,tcp,actions=1
            priority=5,in_port=1,actions=2
            priority=5,tcp,actions=3
            priority=4,in_port=1,tcp,actions=4
            """)
        let c = Classifier(flows)
        #expect(c.lookupIndex(table: 0, key: tcpKey()) == 0)
        // Same ties, other order: the first listed still wins, whichever mask group it is in.
        let reversed = Classifier([flows[1], flows[0], flows[2]])
        #expect(reversed.lookupIndex(table: 0, key: tcpKey()) == 0)
        #expect(reversed.lookup(table: 0, key: tcpKey())?.actions == [.output(2)])
        // A higher priority beats listing order.
        let c2 = Classifier(try FlowParser.parse("priority=1,actions=1\npriority=2,tcp,actions=2"))
        #expect(c2.lookupIndex(table: 0, key: tcpKey()) == 1)
    }

    @Test func tablesAreSeparate() throws {
        let c = Classifier(try FlowParser.parse("""
            table=0,priority=1,tcp,actions=resubmit(,2)
            table=2,priority=1,tcp,actions=7
            table=5,actions=normal
            """))
        #expect(c.lookupIndex(table: 0, key: tcpKey()) == 0)
        #expect(c.lookupIndex(table: 1, key: tcpKey()) == nil)
        #expect(c.lookupIndex(table: 2, key: tcpKey()) == 1)
        #expect(c.lookupIndex(table: 5, key: tcpKey()) == 2)
        #expect(c.lookupIndex(table: 200, key: tcpKey()) == nil)
        #expect(c.tableNumbers == [0, 2, 5])
        #expect(Classifier([]).lookup(table: 0, key: tcpKey()) == nil)
    }

    @Test func ctStatePlusMinus() throws {
        let c = Classifier(try FlowParser.parse("""
            priority=10,ct_state=-trk,actions=1
            priority=10,ct_state=+trk+new,actions=2
            priority=10,ct_state=+trk-new+est,actions=3
            priority=0,actions=drop
            """))
        #expect(c.lookupIndex(table: 0, key: tcpKey(state: [])) == 0)  // untracked
        #expect(c.lookupIndex(table: 0, key: tcpKey(state: [.tracked, .new])) == 1)
        #expect(c.lookupIndex(table: 0, key: tcpKey(state: [.tracked, .new, .related])) == 1)
        #expect(c.lookupIndex(table: 0, key: tcpKey(state: [.new])) == 0)  // -trk only looks at trk
        #expect(c.lookupIndex(table: 0, key: tcpKey(state: [.tracked])) == 3)  // +trk without +new
        #expect(c.lookupIndex(table: 0, key: tcpKey(state: [.tracked, .established])) == 2)
        #expect(c.lookupIndex(table: 0, key: tcpKey(state: [.tracked, .established, .reply])) == 2)
        #expect(c.lookupIndex(table: 0, key: tcpKey(state: [.tracked, .new, .established])) == 1)  // -new fails
    }

    @Test func prefixes() throws {
        let c = Classifier(try FlowParser.parse("""
            priority=30,ip,nw_dst=10.0.0.2,actions=1
            priority=20,ip,nw_dst=10.0.0.0/24,actions=2
            priority=10,ip,nw_dst=10.0.0.0/8,actions=3
            priority=5,ipv6,ipv6_dst=2001:db8::/32,actions=4
            priority=0,actions=drop
            """))
        #expect(c.lookupIndex(table: 0, key: tcpKey(dst: 0x0A00_0002)) == 0)
        #expect(c.lookupIndex(table: 0, key: tcpKey(dst: 0x0A00_0003)) == 1)
        #expect(c.lookupIndex(table: 0, key: tcpKey(dst: 0x0A00_0103)) == 2)
        #expect(c.lookupIndex(table: 0, key: tcpKey(dst: 0x0B00_0002)) == 4)
        var p = ParsedPacket()
        p.key = FlowKey(src: IPAddress(high: 0x2001_0db8_0000_0000, low: 1), dst: IPAddress(high: 0x2001_0db8_ffff_0000, low: 9),
                        srcPort: 1, dstPort: 2, proto: IPProtocol.udp, family: .ipv6)
        #expect(c.lookupIndex(table: 0, key: MatchKey(packet: p, inPort: 1)) == 3)
        // The same low 32 bits in an IPv6 packet do not match the IPv4 prefixes (dl_type differs).
        p.key.dst = IPAddress(high: 0, low: 0x0000_FFFF_0A00_0002)
        #expect(c.lookupIndex(table: 0, key: MatchKey(packet: p, inPort: 1)) == 4)
    }

    @Test func transportMasks() throws {
        let c = Classifier(try FlowParser.parse("""
            priority=10,tcp,tp_dst=0x1000/0xf000,actions=1
            priority=5,tcp,tp_dst=80,actions=2
            priority=1,tcp,actions=3
            """))
        #expect(c.lookupIndex(table: 0, key: tcpKey(tpDst: 0x1234)) == 0)
        #expect(c.lookupIndex(table: 0, key: tcpKey(tpDst: 0x1FFF)) == 0)
        #expect(c.lookupIndex(table: 0, key: tcpKey(tpDst: 0x2000)) == 2)
        #expect(c.lookupIndex(table: 0, key: tcpKey(tpDst: 80)) == 1)
    }

    @Test func keyExtraction() {
        var p = ParsedPacket()
        p.key = FlowKey(src: IPAddress(v4: 1), dst: IPAddress(v4: 2), srcPort: 7, dstPort: 7, proto: IPProtocol.icmp,
                        family: .ipv4)
        p.icmpType = 8
        p.icmpCode = 0
        let k = MatchKey(packet: p, inPort: 3, ctState: [.tracked, .new], ctZone: 4, ctMark: 5)
        #expect(k.dlType == 0x0800 && k.nwProto == 1 && k.tpSrc == 8 && k.tpDst == 0 && k.inPort == 3)
        #expect(k.ctState == [.tracked, .new] && k.ctZone == 4 && k.ctMark == 5)
        #expect(k.src == IPAddress(v4: 1) && k.dst == IPAddress(v4: 2))
        p.key.proto = IPProtocol.tcp
        p.fragment = .later
        let later = MatchKey(packet: p, inPort: 3)
        #expect(later.tpSrc == 0 && later.tpDst == 0)
        let arp = MatchKey(etherType: EtherType.arp, inPort: 9)
        #expect(arp.dlType == 0x0806 && arp.inPort == 9 && arp.nwProto == 0 && arp.src == .zero)
        // Field setters do not disturb their neighbours in the packed words.
        var all = MatchKey()
        all.inPort = .max; all.ctMark = 0; all.dlType = 1; all.tpSrc = 2; all.tpDst = 3; all.ctZone = 4
        all.nwProto = 5; all.ctState = [.dstNAT]
        #expect(all.inPort == .max && all.ctMark == 0 && all.dlType == 1 && all.tpSrc == 2 && all.tpDst == 3)
        #expect(all.ctZone == 4 && all.nwProto == 5 && all.ctState == [.dstNAT])
    }
}
