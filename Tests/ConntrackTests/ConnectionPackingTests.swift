import PacketParsing
import Testing
@testable import Conntrack

/// The entry keeps the key's words apart (the addresses' high halves on its second line) and
/// packs id, classes, ALG and state into one word: what goes in comes out, and a key matches
/// exactly the entries it names, in the right direction.
struct ConnectionPackingTests {
    static let v4 = FlowKey(src: IPAddress(v4: 0x0A01_0101), dst: IPAddress(v4: 0x0A01_0102), srcPort: 40_000,
                            dstPort: 80, proto: IPProtocol.tcp, family: .ipv4, zone: 3)
    static let v6 = FlowKey(src: IPAddress(high: 0x2001_0DB8_0000_0001, low: 7), dst: IPAddress(high: 0x2001_0DB8_0000_0002, low: 9),
                            srcPort: 5000, dstPort: 53, proto: IPProtocol.udp, family: .ipv6)

    static func entry(_ key: FlowKey, id: UInt64 = 42, masterID: UInt64 = Connection.noID,
                      timeoutClass: TimeoutClass = .tcpEstablished, alg: ALGKind = .none,
                      otherState: OtherState = .first) -> Connection {
        Connection(key: key, tcp: TCPPeers(origin: TCPPeer(), reply: TCPPeer()), timeoutClass: timeoutClass, alg: alg,
                   otherState: otherState, mark: 5, expiration: 1_000, id: id, masterID: masterID, labelHigh: 1, labelLow: 2)
    }

    static func direction(_ key: FlowKey, in connection: Connection) -> Bool? {
        withUnsafePointer(to: connection) { Connection.direction(of: key, at: $0) }
    }

    @Test(arguments: [v4, v6])
    func fieldsComeBackAsStored(key: FlowKey) {
        for timeoutClass in TimeoutClass.allCases {
            for alg in ALGKind.allCases {
                var c = Self.entry(key, id: 0xFFFF_FFFF_FFFE, masterID: 17, timeoutClass: timeoutClass, alg: alg,
                                   otherState: .bidirectional)
                #expect(c.key == key)
                #expect(c.id == 0xFFFF_FFFF_FFFE)
                #expect(c.timeoutClass == timeoutClass && c.listClass == .tcpFirstPacket)  // listed on append
                #expect(c.alg == alg && c.otherState == .bidirectional)
                #expect(c.masterID == 17 && c.isRelated)
                // Each setter leaves the other packed fields alone.
                c.listClass = .icmpReply
                c.timeoutClass = .tcpFirstPacket
                c.otherState = .multiple
                #expect(c.listClass == .icmpReply && c.timeoutClass == .tcpFirstPacket)
                #expect(c.alg == alg && c.otherState == .multiple && c.id == 0xFFFF_FFFF_FFFE && c.isRelated)
                c.id = Connection.noID
                #expect(c.id == Connection.noID && c.alg == alg && c.listClass == .icmpReply)
                c.masterID = Connection.noID
                #expect(!c.isRelated && c.masterID == Connection.noID)
                #expect(c.expiration == 1_000 && c.mark == 5 && c.labelHigh == 1 && c.labelLow == 2)
            }
        }
    }

    @Test func unrelatedEntryHasNoMaster() {
        let c = Self.entry(Self.v4)
        #expect(!c.isRelated && c.masterID == Connection.noID && c.id == 42)
    }

    @Test(arguments: [v4, v6])
    func keyFindsItsEntryInBothDirections(key: FlowKey) {
        let c = Self.entry(key)
        #expect(Self.direction(key, in: c) == false)
        #expect(Self.direction(key.reversed, in: c) == true)
        var otherPort = key
        otherPort.srcPort &+= 1
        #expect(Self.direction(otherPort, in: c) == nil)
        var otherZone = key
        otherZone.zone &+= 1
        #expect(Self.direction(otherZone, in: c) == nil)
        #expect(Self.direction(otherZone.reversed, in: c) == nil)
        // The reply swaps addresses and ports together: either swapped alone names no direction.
        var portsOnly = key
        (portsOnly.srcPort, portsOnly.dstPort) = (key.dstPort, key.srcPort)
        #expect(Self.direction(portsOnly, in: c) == nil)
        let addressesOnly = FlowKey(src: key.dst, dst: key.src, srcPort: key.srcPort, dstPort: key.dstPort,
                                    proto: key.proto, family: key.family, zone: key.zone)
        #expect(Self.direction(addressesOnly, in: c) == nil)
    }

    @Test func highHalvesTellApartKeysWithTheSameLowHalves() {
        // Same low halves, ports, protocol and family: only the high halves differ.
        let routed = Self.v6
        let zeroHighs = FlowKey(src: IPAddress(high: 0, low: 7), dst: IPAddress(high: 0, low: 9), srcPort: 5000,
                                dstPort: 53, proto: IPProtocol.udp, family: .ipv6)
        let oneZeroHigh = FlowKey(src: IPAddress(high: 0x2001_0DB8_0000_0001, low: 7), dst: IPAddress(high: 0, low: 9),
                                  srcPort: 5000, dstPort: 53, proto: IPProtocol.udp, family: .ipv6)
        let routedEntry = Self.entry(routed), zeroEntry = Self.entry(zeroHighs), oneEntry = Self.entry(oneZeroHigh)
        #expect(Self.direction(zeroHighs, in: routedEntry) == nil)
        #expect(Self.direction(zeroHighs.reversed, in: routedEntry) == nil)
        #expect(Self.direction(routed, in: zeroEntry) == nil)
        #expect(Self.direction(oneZeroHigh, in: zeroEntry) == nil)
        #expect(Self.direction(oneZeroHigh, in: routedEntry) == nil)
        #expect(Self.direction(routed, in: oneEntry) == nil)
        #expect(Self.direction(zeroHighs, in: zeroEntry) == false)
        #expect(Self.direction(oneZeroHigh, in: oneEntry) == false)
        #expect(Self.direction(oneZeroHigh.reversed, in: oneEntry) == true)
    }

    @Test func keyWhoseReverseIsItselfMatchesAsOriginal() {
        // Same address and port both ways: `==` is asked first, as before the split.
        let a = IPAddress(v4: 0x0A00_0001)
        let key = FlowKey(src: a, dst: a, srcPort: 7, dstPort: 7, proto: IPProtocol.udp, family: .ipv4)
        #expect(Self.direction(key, in: Self.entry(key)) == false)
    }
}
