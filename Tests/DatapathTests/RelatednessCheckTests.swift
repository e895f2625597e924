import Conntrack
@testable import Datapath
import PacketParsing
import Testing

/// Phase 1's rule for committing a new connection at once (`RelatednessCheck`): only when no
/// expectation for it is live at its owner and no earlier announcer of the window joins its
/// two addresses.
@Suite struct RelatednessCheckTests {
    static let client = IPAddress(v4: 0x0A01_0101), server = IPAddress(v4: 0x0A01_0102)
    static let other = IPAddress(v4: 0x0A01_0109)
    static let routing = ShardRouting(shardCount: 4, hashSeed: 42)

    static func tcp(_ src: IPAddress, _ sport: UInt16, _ dst: IPAddress, _ dport: UInt16) -> FlowKey {
        FlowKey(src: src, dst: dst, srcPort: sport, dstPort: dport, proto: IPProtocol.tcp, family: .ipv4)
    }

    /// The data connection of an active FTP session: server port 20 to the client's port 50000.
    static let data = tcp(server, 20, client, 50_000)

    /// Runs `body` with the check over `tables` and `announcers` (in a run, the `WindowLoop`
    /// owns the storage the check points into).
    static func withCheck(tables: [ExpectationTable], announcers: [Announcer], _ body: (RelatednessCheck) -> Void) {
        // Unretained, as the loop holds them: `tables` keeps them alive.
        let unretained = tables.map { Unmanaged.passUnretained($0) }
        withExtendedLifetime(tables) {
            unretained.withUnsafeBufferPointer { unretained in
                announcers.withUnsafeBufferPointer { announcers in
                    body(RelatednessCheck(tables: unretained, routing: routing, announcers: announcers,
                                          noneLive: tables.allSatisfy { $0.count == 0 }))
                }
            }
        }
    }

    @Test func pairHashIsTheUnorderedAddressPair() {
        let control = Self.tcp(Self.client, 40_000, Self.server, 21)
        #expect(Announcer.pairHash(control) == Announcer.pairHash(control.reversed))
        #expect(Announcer.pairHash(control) == Announcer.pairHash(Self.data))
        #expect(Announcer.pairHash(control) != Announcer.pairHash(Self.tcp(Self.client, 40_000, Self.other, 21)))
    }

    @Test func anAnnouncerBetweenTheSameAddressesEarlierInTheWindowParks() {
        let tables = (0..<4).map { _ in ExpectationTable() }
        let control = Self.tcp(Self.client, 40_000, Self.server, 21)
        Self.withCheck(tables: tables, announcers: [Announcer(position: 100, key: control)]) { check in
            #expect(!check.cannotBeRelated(Self.data, position: 101, time: 0))
            // Before the announcer, or between other addresses: it cannot be related.
            #expect(check.cannotBeRelated(Self.data, position: 100, time: 0))
            #expect(check.cannotBeRelated(Self.tcp(Self.other, 20, Self.client, 50_000), position: 101, time: 0))
        }
    }

    @Test func aLiveExpectationAtTheOwnerParksUntilItExpires() {
        let tables = (0..<4).map { _ in ExpectationTable() }
        let control = Self.tcp(Self.client, 40_000, Self.server, 21)
        let expectation = Expectation(key: ExpectationKey(firstPacketOf: Self.data), masterID: 7, masterKey: control,
                                      alg: .ftp, expiration: 1_000, announcedAt: 7)
        tables[Self.routing.owner(of: expectation.key)].create(expectation, time: 0)
        Self.withCheck(tables: tables, announcers: []) { check in
            #expect(!check.noneLive)
            #expect(!check.cannotBeRelated(Self.data, position: 5, time: 999))
            #expect(check.cannotBeRelated(Self.data, position: 5, time: 1_000))
            #expect(check.cannotBeRelated(Self.tcp(Self.server, 20, Self.client, 50_001), position: 5, time: 0))
        }
    }
}
