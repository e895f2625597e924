import Conntrack
import Datapath
import PacketParsing
import Testing

/// Shard choice: symmetric, spread, and expectations of one master land with one owner.
@Suite struct ShardRoutingTests {
    static func key(_ i: Int) -> FlowKey {
        FlowKey(src: IPAddress(v4: 0x0A00_0000 | UInt32(i)), dst: IPAddress(v4: 0xAC10_0001),
                srcPort: UInt16(1024 + i % 60_000), dstPort: 80, proto: IPProtocol.tcp, family: .ipv4)
    }

    @Test(arguments: [2, 4, 8])
    func bothDirectionsLandOnOneShardAndShardsShareTheLoad(shards: Int) {
        let routing = ShardRouting(shardCount: shards, hashSeed: 42)
        var counts = [Int](repeating: 0, count: shards)
        for i in 0..<8_000 {
            let k = Self.key(i)
            #expect(routing.shard(of: k) == routing.shard(of: k.reversed))
            counts[routing.shard(of: k)] += 1
        }
        let fair = 8_000 / shards
        #expect(counts.allSatisfy { $0 > fair * 8 / 10 && $0 < fair * 12 / 10 }, "\(counts)")
    }

    @Test func expectationsOfOneMasterShareAnOwner() {
        let routing = ShardRouting(shardCount: 8, hashSeed: 42)
        let client = IPAddress(v4: 0x0A01_0101), server = IPAddress(v4: 0x0A01_0102)
        let owners = Set((1024..<1100).flatMap { port in
            [routing.owner(of: ExpectationKey(src: server, dst: client, dstPort: UInt16(port), proto: 6, family: .ipv4, zone: 0)),
             routing.owner(of: ExpectationKey(src: client, dst: server, dstPort: UInt16(port), proto: 6, family: .ipv4, zone: 0))]
        })
        #expect(owners.count == 1)
    }
}
