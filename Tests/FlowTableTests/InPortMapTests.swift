import Conntrack
import PacketParsing
import Testing
import TraceSynthesis
@testable import FlowTable

/// `--in-port`: rules, first match, address families, interfaces, errors; the key of a frame.
@Suite struct InPortMapTests {
    func address(_ text: String) -> IPAddress { Endpoint(ip: text).address }

    @Test func sourcePrefixesFirstMatchWins() throws {
        let map = try InPortMap.parse("1=10.1.1.1/32, 2=10.1.1.0/24,3=10.0.0.0/255.0.0.0,4=2001:db8::/32,5=if3")
        #expect(map.port(source: address("10.1.1.1"), interfaceID: 0) == 1)
        #expect(map.port(source: address("10.1.1.2"), interfaceID: 0) == 2)
        #expect(map.port(source: address("10.9.9.9"), interfaceID: 0) == 3)
        #expect(map.port(source: address("2001:db8:1::5"), interfaceID: 0) == 4)
        #expect(map.port(source: address("192.168.0.1"), interfaceID: 3) == 5)
        #expect(map.port(source: address("192.168.0.1"), interfaceID: 0) == 1)  // the default
        #expect(map.port(source: nil, interfaceID: 0) == 1)
        #expect(map.usesInterfaces)
        #expect(!(try InPortMap.parse("7=10.0.0.1")).usesInterfaces)
        // A bare address is a /32; an IPv4 rule never matches an IPv6 source, nor /0 one.
        let exact = try InPortMap.parse("7=10.0.0.1")
        #expect(exact.port(source: address("10.0.0.1"), interfaceID: 0) == 7)
        #expect(exact.port(source: address("10.0.0.2"), interfaceID: 0) == 1)
        let anyV4 = try InPortMap.parse("9=0.0.0.0/0")
        #expect(anyV4.port(source: address("8.8.8.8"), interfaceID: 0) == 9)
        #expect(anyV4.port(source: address("::1"), interfaceID: 0) == 1)
        #expect(anyV4.port(source: address("::a00:1"), interfaceID: 0) == 1)
    }

    @Test func rulesAreEarlierFirstEvenWhenLessSpecific() throws {
        let map = try InPortMap.parse("2=10.0.0.0/8,1=10.1.1.1/32,3=if0")
        #expect(map.port(source: address("10.1.1.1"), interfaceID: 0) == 2)
        #expect(map.port(source: address("11.0.0.1"), interfaceID: 0) == 3)
    }

    @Test(arguments: [
        ("", "is not a rule"), ("1", "is not a rule"), ("x=10.0.0.1", "not a number"),
        ("70000=10.0.0.1", "out of range"), ("1=10.0.0.256", "not an IPv4 address"), ("1=10.0.0.0/33", "bad prefix length"),
        ("1=2001:db8::/129", "bad prefix length"), ("1=2001:db8:::1", "not an IPv6 address"), ("1=ifx", "not a number"),
        ("1=", "missing address"), ("1=10.0.0.1,,2=10.0.0.2", "is not a rule"),
    ])
    func badMapsSayWhatAndWhere(text: String, message: String) {
        let error = #expect(throws: FlowTableError.self) { try InPortMap.parse(text) }
        #expect(error?.message.contains(message) == true, "\(text): \(String(describing: error))")
    }

    @Test func errorsNameTheColumn() {
        let error = #expect(throws: FlowTableError.self) { try InPortMap.parse("1=10.1.1.1/32,2=10.1.1.300/32") }
        #expect(error?.column == 17)
    }

    @Test func keysOfFramesIncludingARP() throws {
        let map = try InPortMap.parse("1=10.1.1.1,2=10.1.1.2")
        func key(_ frame: [UInt8], interface: UInt32 = 0) -> MatchKey? {
            var packet = ParsedPacket()
            return frame.withUnsafeBytes { raw in
                let outcome = PacketParser(linkType: .ethernet).parse(raw, wireLength: raw.count, into: &packet)
                return MatchKey.of(packet, outcome: outcome, frame: raw, inPorts: map, interfaceID: interface)
            }
        }
        let arp = try #require(key(PacketBuilder.arp(from: address("10.1.1.2"), to: address("10.1.1.1"))))
        #expect(arp.dlType == EtherType.arp && arp.inPort == 2)
        let tagged = try #require(key(PacketBuilder.arp(from: address("10.1.1.1"), to: address("10.1.1.2"), reply: true,
                                                         packet: PacketOptions(vlans: [.dot1Q(5)]))))
        #expect(tagged.inPort == 1)
        let tcp = try #require(key(PacketBuilder.tcp(from: Endpoint(ip: "10.1.1.2", port: 20), to: Endpoint(ip: "10.1.1.1", port: 5000),
                                                     flags: .syn)))
        #expect(tcp.inPort == 2 && tcp.tpSrc == 20 && tcp.tpDst == 5000 && tcp.nwProto == IPProtocol.tcp)
        var truncated = PacketBuilder.tcp(from: Endpoint(ip: "10.1.1.2", port: 20), to: Endpoint(ip: "10.1.1.1", port: 5000), flags: .syn)
        truncated.removeLast(30)  // IPv4 header says more than was captured: malformed at IP
        let malformed = try #require(key(truncated))
        #expect(malformed.dlType == EtherType.ipv4 && malformed.inPort == 1 && malformed.nwProto == 0)
        #expect(key(Array(truncated.prefix(10))) == nil)  // no Ethernet header: nothing to match
        // An ARP header cut before the sender address has none: default port.
        let cutARP = try #require(key(Array(PacketBuilder.arp(from: address("10.1.1.2"), to: address("10.1.1.1")).prefix(30))))
        #expect(cutARP.inPort == 1)
    }

    @Test func policiesKnowWhichConnectionsMayGetAnALG() throws {
        #expect(try FlowPolicy(text: "actions=ct(commit,alg=ftp),1").hasALG)
        let none = try FlowPolicy(text: "ip,actions=ct(recirc)\nactions=ct(commit,zone=3),normal")
        #expect(!none.hasALG)
        func packet(_ from: Endpoint, _ to: Endpoint) -> ParsedPacket {
            var p = ParsedPacket()
            p.key = FlowKey(src: from.address, dst: to.address, srcPort: from.port, dstPort: to.port,
                            proto: IPProtocol.tcp, family: .ipv4)
            return p
        }
        let client = Endpoint(ip: "10.1.1.1", port: 40_000), server = Endpoint(ip: "10.1.1.2", port: 21)
        // Port 21 with an ALG (whatever in_port and ct_state): both directions may have one.
        let ftp = try FlowPolicy(text: "in_port=1,tcp,tp_dst=21,ct_state=+trk+new,actions=ct(commit,alg=ftp),normal\nactions=ct(commit),normal")
        #expect(ftp.mayHaveALG(packet(client, server)) && ftp.mayHaveALG(packet(server, client)))
        #expect(!ftp.mayHaveALG(packet(client, server.with(port: 80))))
        #expect(!none.mayHaveALG(packet(client, server)))
        let seed = try FlowPolicy(text: try loadFlowFile("seed-flows1.flows"))
        #expect(seed.mayHaveALG(packet(client, server.with(port: 80))))
    }
}
