import PacketParsing
import Testing
import TraceIO
@testable import TraceSynthesis

@Suite struct EndpointTests {
    @Test func parsesIPv4() {
        let e = Endpoint(ip: "10.1.1.1", port: 21)
        #expect(e.address == IPAddress(v4: 0x0A01_0101))
        #expect(!e.isIPv6)
        #expect(e.description == "10.1.1.1:21")
    }

    @Test(arguments: [
        ("2001:db8::1", IPAddress(high: 0x2001_0db8_0000_0000, low: 1)),
        ("::1", IPAddress(high: 0, low: 1)),
        ("::", IPAddress(high: 0, low: 0)),
        ("fe80::", IPAddress(high: 0xfe80_0000_0000_0000, low: 0)),
        ("1:2:3:4:5:6:7:8", IPAddress(high: 0x0001_0002_0003_0004, low: 0x0005_0006_0007_0008)),
        ("64:ff9b::192.0.2.33", IPAddress(high: 0x0064_ff9b_0000_0000, low: 0xc000_0221)),
        ("::ffff:10.0.0.1", IPAddress(v4: 0x0A00_0001)),
    ])
    func parsesIPv6(text: String, expected: IPAddress) {
        #expect(Endpoint(parsing: text)?.address == expected)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.256", "1.2.3.4.5", "a.b.c.d", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9",
                      ":::", "1:2:3:4:5:6:7", "g::1", " 1.2.3.4", "1.2.3.4:"])
    func rejectsMalformed(text: String) {
        #expect(Endpoint(parsing: text) == nil)
    }

    @Test func roundTripsThroughDescription() {
        for text in ["2001:db8:c1::1:dd:e6c4", "10.255.0.7", "fe80::1:2"] {
            #expect(Endpoint(ip: text).address.description == text)
        }
    }
}

@Suite struct PacketBuilderTests {
    let client = Endpoint(ip: "10.1.1.1", port: 40000)
    let server = Endpoint(ip: "10.1.1.2", port: 21)

    @Test func tcpSynWithOptions() throws {
        let f = PacketBuilder.tcp(from: client, to: server, flags: .syn, seq: 1000,
                                  options: TCPOption.synDefaults, packet: PacketOptions(vlans: [.dot1ad(5), .dot1Q(10)]))
        let d = try #require(decode(f))
        #expect(d.vlans == [5, 10])
        #expect(d.ipv4HeaderOK && d.l4ChecksumOK)
        #expect(d.seq == 1000 && d.isSYN)
        #expect(Array(f[0..<6]) == [0x02, 0, 10, 1, 1, 2])  // MAC derived from the destination IP
        let l4 = 14 + 8 + 20
        #expect(f[l4 + 12] >> 4 == 8)  // 20 bytes of header + 12 of options
        #expect(Array(f[(l4 + 20)..<(l4 + 24)]) == [2, 4, 0x05, 0xb4])  // MSS 1460
    }

    @Test func udpAndIcmpOverBothFamilies() throws {
        let v6a = Endpoint(ip: "2001:db8::1", port: 5353), v6b = Endpoint(ip: "2001:db8::2", port: 53)
        for f in [PacketBuilder.udp(from: client, to: server, payload: Array("hello".utf8)),
                  PacketBuilder.udp(from: v6a, to: v6b, payload: [1, 2, 3]),
                  PacketBuilder.icmpEcho(from: client.address, to: server.address, identifier: 7, sequence: 1, payload: [9, 9]),
                  PacketBuilder.icmpEcho(from: v6a.address, to: v6b.address, reply: true, identifier: 7, sequence: 1)] {
            let d = try #require(decode(f))
            #expect(d.ipv4HeaderOK && d.l4ChecksumOK, "proto \(d.proto)")
        }
    }

    @Test func icmpErrorQuotesTheOffendingPacket() throws {
        let offending = PacketBuilder.udp(from: client, to: Endpoint(ip: "192.0.2.9", port: 69), payload: Array(repeating: 1, count: 30))
        let error = PacketBuilder.icmpError(.portUnreachable, from: Endpoint(ip: "192.0.2.9").address, about: offending)
        let d = try #require(decode(error))
        #expect(d.proto == 1 && d.l4ChecksumOK && d.ipv4HeaderOK)
        #expect(d.dstText == "10.1.1.1")
        #expect(d.payload[0] == 3 && d.payload[1] == 3)
        #expect(Array(d.payload[8...]) == Array(offending[14..<(14 + 28)]))  // IP header + 8 bytes

        let off6 = PacketBuilder.tcp(from: Endpoint(ip: "2001:db8::1", port: 1), to: Endpoint(ip: "2001:db8::2", port: 2), flags: .syn)
        let e6 = PacketBuilder.icmpError(.fragmentationNeeded(mtu: 1280), from: Endpoint(ip: "2001:db8::fe").address, about: off6)
        let d6 = try #require(decode(e6))
        #expect(d6.proto == 58 && d6.l4ChecksumOK)
        #expect(d6.payload[0] == 2 && be32(d6.payload, 4) == 1280)
        #expect(Array(d6.payload[8...]) == Array(off6[14...]))
    }

    @Test func ipv4FragmentsReassembleToTheDatagram() throws {
        let whole = PacketBuilder.udp(from: client, to: server, payload: (0..<1000).map { UInt8($0 & 0xff) },
                                      packet: PacketOptions(identification: 77, dontFragment: false))
        let parts = PacketBuilder.fragment(whole, payloadBytesPerFragment: 300)
        #expect(parts.count == 4)
        var payload: [UInt8] = []
        for (i, p) in parts.enumerated() {
            #expect(onesSum(p[14..<34]) == 0xffff)
            #expect(be16(p, 18) == 77)
            let field = be16(p, 20)
            #expect((field & 0x2000 != 0) == (i < 3))
            #expect(Int(field & 0x1fff) * 8 == payload.count)
            payload += p[34...]
        }
        #expect(payload == Array(whole[34...]))
    }

    @Test func ipv6FragmentsCarryAFragmentHeader() throws {
        let whole = PacketBuilder.udp(from: Endpoint(ip: "2001:db8::1", port: 1), to: Endpoint(ip: "2001:db8::2", port: 2),
                                      payload: Array(repeating: 3, count: 500))
        let parts = PacketBuilder.fragment(whole, payloadBytesPerFragment: 200, identification: 0xabcdef)
        #expect(parts.count == 3)
        var payload: [UInt8] = []
        for (i, p) in parts.enumerated() {
            #expect(p[14 + 6] == 44)
            #expect(p[54] == 17)
            let field = be16(p, 56)
            #expect((field & 1 == 1) == (i < 2))
            #expect(Int(field >> 3) * 8 == payload.count)
            #expect(be32(p, 58) == 0xabcdef)
            #expect(Int(be16(p, 18)) == p.count - 54)
            payload += p[62...]
        }
        #expect(payload == Array(whole[54...]))
    }
}

@Suite struct TCPConversationTests {
    @Test func handshakeDataAndClose() throws {
        var frames: [[UInt8]] = []
        var c = TCPConversation(client: Endpoint(ip: "10.0.0.1", port: 40000), server: Endpoint(ip: "10.0.0.2", port: 80),
                                clientISN: 100, serverISN: 9000)
        c.handshake(into: &frames)
        c.send(fromClient: true, text: "GET / HTTP/1.0\r\n\r\n", acked: true, into: &frames)
        c.send(fromClient: false, payload: Array(repeating: 0x41, count: 3000), into: &frames)
        c.close(into: &frames)
        c.reset(fromClient: false, into: &frames)
        let d = frames.compactMap(decode)
        #expect(d.count == 3 + 2 + 3 + 4 + 1)
        #expect(d.allSatisfy { $0.l4ChecksumOK && $0.ipv4HeaderOK })
        #expect(d[0].seq == 100 && d[0].tcpFlags == 0x02)
        #expect(d[1].seq == 9000 && d[1].ack == 101 && d[1].tcpFlags == 0x12)
        #expect(d[2].seq == 101 && d[2].ack == 9001)
        #expect(d[3].payload.count == 18 && d[4].ack == 101 + 18)
        #expect(d[5].payload.count == 1460 && d[6].payload.count == 1460 && d[7].payload.count == 80)
        #expect(d[6].seq == 9001 + 1460)
        #expect(d[8].tcpFlags == 0x11 && d[8].seq == 119 && d[8].ack == 9001 + 3000)
        #expect(d[9].ack == 120)
        #expect(d[10].tcpFlags == 0x11 && d[10].seq == 9001 + 3000)
        #expect(d[11].ack == 9001 + 3001)
        #expect(d[12].tcpFlags == 0x14)
        // IPv4 identification counts up per side.
        #expect(be16(frames[2], 18) == be16(frames[0], 18) + 1)
    }

    @Test func traceBuilderTimestampsAndGaps() throws {
        var t = TraceBuilder(clock: FrameClock(startNanos: 5_000, stepNanos: 1_000))
        t.append([1, 2, 3])
        t.append([4], gapNanos: 10_000)
        t.append([5, 6])
        #expect(t.entries.map(\.timestampNanos) == [5_000, 16_000, 17_000])
        #expect(Array(t.frame(2)) == [5, 6])
        let trace = t.makeTrace(name: "x")
        #expect(trace.count == 3 && trace.records.map(\.capturedLength) == [3, 1, 2])
        #expect(Array(trace.frame(1)) == [4])
        #expect(trace.records[1].timestampNanos == 16_000)
    }
}
