import PacketParsing
import Testing
@testable import Conntrack

/// ct_state answers of one partition for UDP, ICMP echo and other protocols, IPv4 and IPv6.
@Suite struct PartitionStateTests {
    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func udpNewThenEstablishedBothWays(family: AddressFamily) {
        let ct = ConntrackPartition()
        let (a, b) = family == .ipv4 ? (Fixture.client, Fixture.server) : (Fixture.client6, Fixture.server6)
        let request = Fixture.udp(a, b, family: family)
        let first = ct.process(request, packetIndex: 0, time: 0, action: Fixture.commit)
        #expect(first.state == [.tracked, .new])
        #expect(first.connectionID == 0)
        let again = ct.process(request, packetIndex: 1, time: 1, action: Fixture.commit)
        #expect(again.state == [.tracked, .established])
        #expect(again.connectionID == 0)
        let reply = ct.process(Fixture.reply(request), packetIndex: 2, time: 2, action: Fixture.lookup)
        #expect(reply.state == [.tracked, .established, .reply])
        #expect(reply.connectionID == 0)
        #expect(ct.count == 1)
    }

    @Test func withoutCommitNothingIsStored() {
        let ct = ConntrackPartition()
        let p = Fixture.udp()
        #expect(ct.process(p, packetIndex: 0, time: 0, action: Fixture.lookup).state == [.tracked, .new])
        #expect(ct.process(p, packetIndex: 1, time: 1, action: Fixture.lookup).state == [.tracked, .new])
        #expect(ct.count == 0)
        #expect(ct.process(p, packetIndex: 2, time: 2, action: Fixture.lookup).connectionID == Connection.noID)
    }

    @Test func zonesSeparateConnections() {
        let ct = ConntrackPartition()
        let p = Fixture.udp()
        _ = ct.process(p, packetIndex: 0, time: 0, action: CTAction(zone: 1, commit: true))
        #expect(ct.process(p, packetIndex: 1, time: 1, action: CTAction(zone: 2)).state == [.tracked, .new])
        let inZone1 = ct.process(Fixture.reply(p), packetIndex: 2, time: 2, action: CTAction(zone: 1))
        #expect(inZone1.state == [.tracked, .established, .reply])
        #expect(inZone1.zone == 1)
    }

    @Test(arguments: [AddressFamily.ipv4, .ipv6])
    func icmpEchoPairsByIdentifier(family: AddressFamily) {
        let ct = ConntrackPartition()
        let (a, b) = family == .ipv4 ? (Fixture.client, Fixture.server) : (Fixture.client6, Fixture.server6)
        let request = Fixture.icmpEcho(a, b, id: 9, request: true, family: family)
        #expect(ct.process(request, packetIndex: 0, time: 0, action: Fixture.commit).state == [.tracked, .new])
        let reply = Fixture.icmpEcho(b, a, id: 9, request: false, family: family)
        #expect(ct.process(reply, packetIndex: 1, time: 1, action: Fixture.lookup).state == [.tracked, .established, .reply])
        let otherID = Fixture.icmpEcho(b, a, id: 10, request: false, family: family)
        let lone = ct.process(otherID, packetIndex: 2, time: 2, action: Fixture.commit)
        #expect(lone.state == [.tracked, .invalid])
        #expect(lone.invalidReason == .icmpInvalidNew)
    }

    @Test func echoRequestInReplyDirectionIsInvalid() {
        let ct = ConntrackPartition()
        let request = Fixture.icmpEcho(request: true)
        _ = ct.process(request, packetIndex: 0, time: 0, action: Fixture.commit)
        let backwardsRequest = Fixture.icmpEcho(Fixture.server, Fixture.client, request: true)
        let verdict = ct.process(backwardsRequest, packetIndex: 1, time: 1, action: Fixture.lookup)
        #expect(verdict.state == [.tracked, .invalid])
        #expect(verdict.invalidReason == .icmpWrongDirection)
    }

    @Test func otherProtocolsTrackedByAddressPair() {
        let ct = ConntrackPartition()
        let gre = Fixture.other(proto: 47)
        #expect(ct.process(gre, packetIndex: 0, time: 0, action: Fixture.commit).state == [.tracked, .new])
        #expect(ct.process(Fixture.reply(gre), packetIndex: 1, time: 1, action: Fixture.lookup).state
                == [.tracked, .established, .reply])
        #expect(ct.process(Fixture.other(proto: 50), packetIndex: 2, time: 2, action: Fixture.lookup).state
                == [.tracked, .new])
    }

    @Test func fragmentsAreInvalid() {
        let ct = ConntrackPartition()
        var p = Fixture.udp()
        p.fragment = .later
        let verdict = ct.process(p, packetIndex: 0, time: 0, action: Fixture.commit)
        #expect(verdict.state == [.tracked, .invalid])
        #expect(verdict.invalidReason == .fragment)
        #expect(ct.count == 0)
        #expect(ct.stats.invalidByReason[Int(InvalidReason.fragment.rawValue)] == 1)
    }

    @Test func commitSetsMarkAndLabelAndLaterCommitChangesThem() {
        let ct = ConntrackPartition()
        let p = Fixture.udp()
        let label = CTLabel(high: 1, low: 2)
        let first = ct.process(p, packetIndex: 0, time: 0,
                               action: CTAction(commit: true, mark: 0xAB, markMask: 0xFF, label: label))
        #expect(first.mark == 0xAB)
        #expect(first.label == label)
        let next = ct.process(p, packetIndex: 1, time: 1, action: CTAction(commit: true, mark: 0x100, markMask: 0xF00))
        #expect(next.mark == 0x1AB)
        #expect(ct.process(p, packetIndex: 2, time: 2, action: Fixture.lookup).label == label)
    }

    @Test func algIsKeptFromTheFirstCommitOnly() {
        let ct = ConntrackPartition()
        let p = Fixture.udp(dport: 69)
        #expect(ct.process(p, packetIndex: 0, time: 0, action: CTAction(commit: true, alg: .tftp)).alg == .tftp)
        #expect(ct.process(p, packetIndex: 1, time: 1, action: CTAction(commit: true, alg: .ftp)).alg == .tftp)
        #expect(ct.process(p, packetIndex: 2, time: 2, action: Fixture.lookup).alg == .tftp)
    }

    @Test func ctStateTextFollowsTheVerdictFileOrder() {
        #expect(CTState([.tracked, .new, .related]).description == "+trk+new+rel")
        #expect(CTState([.reply, .established, .tracked]).description == "+trk+est+rpl")
        #expect(CTState().description == "-")
        #expect(CTState([.tracked, .established, .reply]).ovsDescription == "est|rpl|trk")
    }
}
