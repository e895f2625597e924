import PacketParsing
import Testing
@testable import Conntrack

/// Limits, expiry in trace time, flush, and the index's deletion logic.
@Suite struct PartitionCapacityTests {
    @Test func fullTableRefusesCommitsAndKeepsWorking() {
        let ct = ConntrackPartition(config: ConntrackConfig(maxConnections: 4))
        for port in 0..<4 {
            #expect(ct.process(Fixture.udp(sport: UInt16(1000 + port)), packetIndex: UInt64(port), time: 0,
                               action: Fixture.commit).connectionID == UInt64(port))
        }
        let refused = ct.process(Fixture.udp(sport: 2000), packetIndex: 4, time: 0, action: Fixture.commit)
        #expect(refused.state == [.tracked, .new])
        #expect(refused.refusedByLimit)
        #expect(refused.connectionID == Connection.noID)
        #expect(ct.stats.refusedByLimit == 1)
        // Existing connections still answer.
        let old = ct.process(Fixture.reply(Fixture.udp(sport: 1002)), packetIndex: 5, time: 1, action: Fixture.lookup)
        #expect(old.state == [.tracked, .established, .reply])
        #expect(old.connectionID == 2)
    }

    @Test func preallocatedTableIsFaultedInAndAnswersAsALazyOne() {
        // 40,000 entries (5 MB: huge pages where the kernel gives them), all populated at once.
        let preallocated = ConntrackPartition(config: ConntrackConfig(maxConnections: 40_000, preallocate: true))
        let lazy = ConntrackPartition(config: ConntrackConfig(maxConnections: 40_000))
        #expect(preallocated.store.populatedUpTo == 40_000)
        #expect(lazy.store.populatedUpTo == 0)
        var verdicts: [[CTVerdict]] = [[], []]
        for (k, ct) in [preallocated, lazy].enumerated() {
            for port in 0..<3_000 {
                let p = Fixture.udp(sport: UInt16(1_000 + port))
                verdicts[k].append(ct.process(p, packetIndex: UInt64(2 * port), time: UInt64(port), action: Fixture.commit))
                verdicts[k].append(ct.process(Fixture.reply(p), packetIndex: UInt64(2 * port + 1), time: UInt64(port),
                                              action: Fixture.lookup))
            }
        }
        #expect(verdicts[0] == verdicts[1])
        #expect(preallocated.count == 3_000)
        #expect(lazy.store.populatedUpTo > 3_000)  // populated ahead as the table filled
    }

    /// The look-ahead prefetches pay from `prefetchFromConnections` live connections on, and
    /// stop paying when the table shrinks below it again; the default follows the L2 cache.
    @Test func lookAheadPaysFromTheConfiguredTableSize() {
        let ct = ConntrackPartition(config: ConntrackConfig(prefetchFromConnections: 3))
        for port in 0..<3 {
            #expect(!ct.lookAheadPays, "\(port) connections")
            _ = ct.process(Fixture.udp(sport: UInt16(1_000 + port)), packetIndex: UInt64(port), time: 0,
                           action: Fixture.commit)
        }
        #expect(ct.lookAheadPays)
        #expect(!ct.lookAheadAlwaysPays)
        #expect(ConntrackPartition(config: ConntrackConfig(prefetchFromConnections: 0)).lookAheadAlwaysPays)
        // UDP's first-packet timeout is 60 s: all three are gone (reclaimed as they are met).
        _ = ct.process(Fixture.udp(sport: 1_000), packetIndex: 3, time: 61 * Fixture.second, action: Fixture.lookup)
        #expect(ct.count < 3)
        #expect(!ct.lookAheadPays)
        #expect(ConntrackConfig().prefetchFromConnections == ConntrackConfig.defaultPrefetchFromConnections)
        #expect(ConntrackConfig.defaultPrefetchFromConnections >= 32_768 / MemoryLayout<Connection>.stride)
    }

    /// A connection with an ALG that goes away is reported once in `closedALGConnections`, with
    /// the flag the per-packet check reads; draining hands it over and clears both. One without
    /// an ALG is not reported.
    @Test func closedALGConnectionsAreReportedOnceAndDrained() {
        let ct = ConntrackPartition()
        _ = ct.process(Fixture.udp(sport: 1_000), packetIndex: 0, time: 0, action: CTAction(commit: true, alg: .tftp))
        _ = ct.process(Fixture.udp(sport: 2_000), packetIndex: 1, time: 0, action: Fixture.commit)
        #expect(!ct.hasClosedALGConnections)
        // Both expire (UDP first-packet timeout 60 s) and are reclaimed as they are met.
        for (index, port) in [(2, UInt16(1_000)), (3, 2_000)] {
            _ = ct.process(Fixture.udp(sport: port), packetIndex: UInt64(index), time: 61 * Fixture.second,
                           action: Fixture.lookup)
        }
        #expect(ct.count == 0)
        #expect(ct.hasClosedALGConnections)
        var drained: [UInt64] = []
        ct.drainClosedALGConnections { drained.append($0.id) }
        #expect(drained == [0])
        #expect(!ct.hasClosedALGConnections)
        #expect(ct.closedALGConnections.isEmpty)
        ct.drainClosedALGConnections { drained.append($0.id) }
        #expect(drained == [0])
    }

    @Test func zoneLimitHoldsPerZone() {
        let ct = ConntrackPartition(config: ConntrackConfig(maxConnections: 100, zoneLimits: [5: 1]))
        #expect(!ct.process(Fixture.udp(sport: 1), packetIndex: 0, time: 0, action: CTAction(zone: 5, commit: true)).refusedByLimit)
        #expect(ct.process(Fixture.udp(sport: 2), packetIndex: 1, time: 0, action: CTAction(zone: 5, commit: true)).refusedByLimit)
        #expect(!ct.process(Fixture.udp(sport: 2), packetIndex: 2, time: 0, action: CTAction(zone: 6, commit: true)).refusedByLimit)
        #expect(ct.stats.refusedByZoneLimit == 1)
    }

    @Test func connectionsExpireInTraceTime() {
        let ct = ConntrackPartition()
        let p = Fixture.udp()
        _ = ct.process(p, packetIndex: 0, time: 0, action: Fixture.commit)
        // UDP first-packet timeout (other_first) is 60 s: still there at 59 s.
        #expect(ct.process(p, packetIndex: 1, time: 59 * Fixture.second, action: Fixture.lookup).state
                == [.tracked, .established])
        // That packet refreshed it to other_multiple (60 s): gone at 59 + 60 s.
        let late = ct.process(p, packetIndex: 2, time: 119 * Fixture.second, action: Fixture.lookup)
        #expect(late.state == [.tracked, .new])
        #expect(ct.stats.expired == 1)
        #expect(ct.count == 0)
    }

    @Test func repliedUDPUsesTheBidirectionalTimeout() {
        let ct = ConntrackPartition()
        let p = Fixture.udp()
        _ = ct.process(p, packetIndex: 0, time: 0, action: Fixture.commit)
        _ = ct.process(Fixture.reply(p), packetIndex: 1, time: Fixture.second, action: Fixture.lookup)
        // other_bidir is 30 s.
        #expect(ct.process(p, packetIndex: 2, time: 30 * Fixture.second, action: Fixture.lookup).state
                == [.tracked, .established])
        #expect(ct.process(p, packetIndex: 3, time: 61 * Fixture.second, action: Fixture.lookup).state
                == [.tracked, .new])
    }

    /// A class change moves an entry to its new class's expiry list only when its new
    /// expiration comes before the listed one; either way the sweeper reclaims it on time, and
    /// never while it is alive.
    @Test func sweeperReclaimsOnTimeAfterClassChanges() {
        var timeouts = TimeoutPolicy.ovsDefaults
        timeouts[.otherFirst] = 20 * Fixture.second
        timeouts[.otherMultiple] = 100 * Fixture.second
        timeouts[.otherBidir] = 5 * Fixture.second
        let ct = ConntrackPartition(config: ConntrackConfig(timeouts: timeouts, sweepStepsPerPacket: 8))
        var index: UInt64 = 0
        func packet(_ p: ParsedPacket, at seconds: UInt64, _ action: CTAction = Fixture.lookup) {
            _ = ct.process(p, packetIndex: index, time: seconds * Fixture.second, action: action)
            index += 1
        }
        // Time moves on through packets of a connection that stays alive.
        let clock = Fixture.udp(sport: 9)
        func tick(to seconds: UInt64) { packet(clock, at: seconds, Fixture.commit) }
        let shorter = Fixture.udp(sport: 1), longer = Fixture.udp(sport: 2)
        packet(shorter, at: 0, Fixture.commit)  // listed to expire at 20 s
        packet(longer, at: 0, Fixture.commit)   // listed to expire at 20 s
        tick(to: 1)
        packet(Fixture.reply(shorter), at: 1)  // bidirectional: expires at 6 s, before its listing
        packet(longer, at: 2)                  // multiple: expires at 102 s, after its listing
        for second in stride(from: 3, through: 9, by: 1) { tick(to: UInt64(second)) }
        #expect(ct.stats.expired == 1, "the shortened connection is reclaimed at 6 s, not at 20")
        #expect(ct.count == 2)
        for second in stride(from: 10, through: 100, by: 5) { tick(to: UInt64(second)) }
        #expect(ct.stats.expired == 1, "the lengthened connection stays while alive")
        packet(longer, at: 100)  // still established
        #expect(ct.stats.expired == 1)
        for second in stride(from: 105, through: 210, by: 5) { tick(to: UInt64(second)) }
        #expect(ct.stats.expired == 2, "and goes once its own timeout has passed")
        #expect(ct.count == 1)
    }

    @Test func sweeperReclaimsAtMostItsBudgetPerPacket() {
        let config = ConntrackConfig(maxConnections: 1000, sweepStepsPerPacket: 4)
        let ct = ConntrackPartition(config: config)
        for i in 0..<100 {
            _ = ct.process(Fixture.udp(sport: UInt16(i)), packetIndex: UInt64(i), time: 0, action: Fixture.commit)
        }
        #expect(ct.count == 100)
        // Long after every timeout, one packet reclaims at most 4 of them.
        _ = ct.process(Fixture.other(), packetIndex: 100, time: 1000 * Fixture.second, action: Fixture.lookup)
        #expect(ct.count >= 96)
        for i in 0..<200 {
            _ = ct.process(Fixture.other(), packetIndex: UInt64(101 + i), time: 1000 * Fixture.second, action: Fixture.lookup)
        }
        #expect(ct.count == 0)
        #expect(ct.stats.expired == 100)
    }

    @Test func timeBeforeTheLatestIsClampedForward() {
        let ct = ConntrackPartition()
        let p = Fixture.udp()
        _ = ct.process(p, packetIndex: 0, time: 100 * Fixture.second, action: Fixture.commit)
        _ = ct.process(p, packetIndex: 1, time: 5 * Fixture.second, action: Fixture.lookup)
        #expect(ct.now == 100 * Fixture.second)
    }

    @Test func flushAllOrOneZone() {
        let ct = ConntrackPartition()
        _ = ct.process(Fixture.udp(sport: 1), packetIndex: 0, time: 0, action: CTAction(zone: 1, commit: true))
        _ = ct.process(Fixture.udp(sport: 2), packetIndex: 1, time: 0, action: CTAction(zone: 2, commit: true))
        _ = ct.process(Fixture.udp(sport: 3), packetIndex: 2, time: 0, action: CTAction(zone: 2, commit: true))
        ct.flush(zone: 2)
        #expect(ct.count == 1)
        #expect(ct.connections.map(\.key.zone) == [1])
        ct.flush()
        #expect(ct.count == 0)
        #expect(ct.process(Fixture.udp(sport: 1), packetIndex: 3, time: 0, action: CTAction(zone: 1)).state == [.tracked, .new])
    }

    @Test func indexSurvivesRandomInsertAndRemoveAgainstAModel() {
        // Tiny index so that probe runs collide and wrap around; compared with a dictionary.
        var index = FlowIndex(minimumCapacity: 64)
        var model: [Int: UInt64] = [:]
        var rng = SystemRandomNumberGenerator()
        for step in 0..<5_000 {
            let entry = Int.random(in: 0..<30, using: &rng)
            if let hash = model[entry] {
                index.remove(hash: hash, entry: entry)
                model[entry] = nil
            } else {
                // Few distinct homes (near the end, to wrap) so that probe runs overlap.
                let hash = UInt64(56 + Int.random(in: 0...7, using: &rng)) << 32 | UInt64(step) << 40
                index.insert(hash: hash, entry: entry)
                model[entry] = hash
            }
            for (e, h) in model {
                #expect(index.probe(hash: h) { $0 == e } != nil)
            }
        }
    }

    @Test func indexGrowsByDoublingAndKeepsEveryEntry() {
        var index = FlowIndex(minimumCapacity: 1 << 16)
        #expect(index.capacity == FlowIndex.initialCapacity)
        var rng = SplitMix64(state: 7)
        var hashes: [UInt64] = []
        for entry in 0..<10_000 {
            let hash = rng.next()
            index.insert(hash: hash, entry: entry)
            hashes.append(hash)
            #expect(2 * index.count <= index.capacity)
        }
        #expect(index.capacity == 32_768)  // 10,000 slots at most half full: 4096 doubled three times
        for (entry, hash) in hashes.enumerated() {
            #expect(index.probe(hash: hash) { $0 == entry } != nil)
        }
        for (entry, hash) in hashes.enumerated() where entry % 2 == 0 { index.remove(hash: hash, entry: entry) }
        #expect(index.count == 5_000)
        for (entry, hash) in hashes.enumerated() {
            #expect((index.probe(hash: hash) { $0 == entry } != nil) == (entry % 2 == 1))
        }
    }

    @Test func theLookAheadReadsTheIndexAsItGrows() {
        // The look-ahead's prefetches read the index through the partition's copy of its slot
        // pointer (`lookAheadSlots`, inlined into replay loops in other modules). Every insert
        // may grow the index into a new array and free the old one; after both commit paths (the
        // general one and the TCP lane's `commitFirstSegment`) the copy must be the index's, or
        // the prefetches read freed memory.
        let ct = ConntrackPartition(config: ConntrackConfig(maxConnections: 20_000))
        var committed: [(hash: UInt64, id: UInt64)] = []
        for n in 0..<12_000 {
            var key = TestKeys.v4
            key.src = IPAddress(v4: 0x0A00_0000 | UInt32(n))
            let packet = segment(.syn, seq: UInt32(n), key: key)
            let hash = ct.hash(key)
            if n % 2 == 0 {
                #expect(ct.process(packet, packetIndex: UInt64(n), time: 0, action: Fixture.commit).state == [.tracked, .new])
            } else {
                let step = withUnsafePointer(to: packet) { ct.commitFirstSegment($0, hash: hash, packetIndex: UInt64(n), time: 0) }
                #expect(step?.state == [.tracked, .new])
            }
            committed.append((hash, UInt64(n)))
            #expect(ct.lookAheadSlots.slots == ct.index.slots && ct.lookAheadSlots.mask == ct.index.mask)
        }
        #expect(ct.index.capacity == 32_768)  // grown three times from 4,096
        // Each guess is the connection's entry, or -1 where its slot is past the home line.
        var hits = 0
        for (hash, id) in committed {
            let guess = ct.prefetchEntry(hash: hash)
            if guess >= 0 {
                #expect(ct.store.entries[guess].id == id)
                hits += 1
            }
        }
        #expect(hits > committed.count * 9 / 10)
    }

    @Test func indexStopsGrowingAtItsLimit() {
        var index = FlowIndex(minimumCapacity: 8_192)
        var rng = SplitMix64(state: 9)
        for entry in 0..<4_096 { index.insert(hash: rng.next(), entry: entry) }
        #expect(index.capacity == 8_192)
    }

    @Test func dumpIsSortedAndInOVSFormat() {
        let ct = ConntrackPartition()
        _ = ct.process(Fixture.udp(sport: 2, dport: 53), packetIndex: 7, time: 0,
                       action: CTAction(zone: 3, commit: true, mark: 5, markMask: 0xFFFF_FFFF))
        _ = ct.process(Fixture.icmpEcho(request: true), packetIndex: 9, time: 0, action: Fixture.commit)
        #expect(ct.dumpConnections() == [
            "icmp,orig=(src=10.1.1.1,dst=10.1.1.2,id=7,type=8,code=0),reply=(src=10.1.1.2,dst=10.1.1.1,id=7,type=0,code=0),id=9",
            "udp,orig=(src=10.1.1.1,dst=10.1.1.2,sport=2,dport=53),reply=(src=10.1.1.2,dst=10.1.1.1,sport=53,dport=2),id=7,zone=3,mark=5",
        ])
    }

    @Test func connectionEntryIsTwoCacheLines() {
        // Entry plus its index share must stay within the 160-byte budget at 1M connections, and
        // an entry must never straddle a third cache line. The first line holds all that an
        // established packet reads and writes: the key's low words, the TCP peers, the expiry,
        // the packed id and small fields; the addresses' high halves open the second.
        #expect(MemoryLayout<Connection>.stride == 128)
        #expect(MemoryLayout<TCPPeers>.size == 24)
        #expect(MemoryLayout<Connection>.offset(of: \Connection.keyTail) == 16)
        #expect(MemoryLayout<Connection>.offset(of: \Connection.tcp) == 24)
        #expect(MemoryLayout<Connection>.offset(of: \Connection.expiration) == 48)
        #expect(MemoryLayout<Connection>.offset(of: \Connection.packed) == 56)
        #expect(MemoryLayout<Connection>.offset(of: \Connection.sourceHigh) == 64)
        // Every timeout class fits the four bits `packed` keeps for it.
        #expect(TimeoutClass.allCases.allSatisfy { $0.rawValue < 16 })
        #expect(ALGKind.allCases.allSatisfy { $0.rawValue < 4 })
    }
}

