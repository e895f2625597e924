import Conntrack
import PacketParsing
import Testing
import TraceSynthesis

extension ICMPErrorKind: CustomTestStringConvertible {
    public var testDescription: String {
        switch self {
        case .portUnreachable: "port-unreachable"
        case .hostUnreachable: "host-unreachable"
        case .administrativelyProhibited: "admin-prohibited"
        case .fragmentationNeeded(let mtu): "frag-needed/too-big(\(mtu))"
        case .timeExceeded: "time-exceeded"
        }
    }
}

/// ICMP / ICMPv6 errors (+rel, never committed) and checksum policies, with real frames.
///
/// Direction of an error, as OVS decides it (lib/conntrack.c `extract_l4_icmp`: the quoted
/// packet's key is reversed before the look-up): an error about a packet the originator sent
/// travels back to the originator, i.e. in the reply direction: +trk+rel+rpl. An error about a
/// packet the responder sent travels to the responder: +trk+rel.
@Suite struct PartitionICMPFrameTests {
    static let kinds: [ICMPErrorKind] = [
        .portUnreachable, .hostUnreachable, .administrativelyProhibited,
        .fragmentationNeeded(mtu: 1280), .timeExceeded,
    ]

    @Test(arguments: Net.allCases, PartitionICMPFrameTests.kinds)
    func errorsAboutATCPConnectionAreRelated(net: Net, kind: ICMPErrorKind) {
        let r = FrameRunner()
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        c.send(fromClient: true, text: "GET / HTTP/1.1\r\n\r\n", into: &frames)
        #expect(r.run(frames).map(\.state) == [S.new, S.estRpl, S.est, S.est])

        // About the client's data segment, from a router on the way: back to the client.
        let aboutClientData = PacketBuilder.icmpError(kind, from: net.router, about: frames[3])
        let packet = parse(aboutClientData)
        #expect(packet.key.proto == net.icmpProto)
        #expect(packet.icmpInnerOffset != 0)
        let toClient = r.run(aboutClientData)
        #expect(toClient.state == S.relRpl)
        #expect(toClient.connectionID == 0)
        #expect(toClient.masterID == Connection.noID)
        #expect(toClient.invalidReason == nil)

        // About the server's SYN+ACK: travels to the server, the original direction.
        let aboutSynAck = PacketBuilder.icmpError(kind, from: net.router, about: frames[1])
        let toServer = r.run(aboutSynAck)
        #expect(toServer.state == S.rel)
        #expect(toServer.connectionID == 0)

        // Errors are never committed, even with commit in the action, and leave the
        // connection as it was.
        #expect(r.ct.count == 1)
        #expect(r.ct.stats.committed == 1)
        #expect(r.ct.stats.committedByProtocol[Int(net.icmpProto)] == 0)
        #expect(r.ct.stats.packetsByState[Int(S.relRpl.rawValue)] == 1)
        #expect(r.ct.stats.packetsByState[Int(S.rel.rawValue)] == 1)
        frames = []
        c.send(fromClient: false, text: "HTTP/1.1 200 OK\r\n\r\n", into: &frames)
        #expect(r.run(frames[0]).state == S.estRpl)
        #expect(r.ct.dumpConnections() == ["tcp," + net.dumpTuples() + ",id=0,protoinfo=(state=ESTABLISHED)"])
    }

    @Test(arguments: Net.allCases)
    func portUnreachableAboutUDPIsRelatedReply(net: Net) {
        let r = FrameRunner()
        let client = net.client.with(port: 5353), server = net.server.with(port: 53)
        let query = PacketBuilder.udp(from: client, to: server, payload: [1, 2, 3, 4])
        let first = r.run(query)
        #expect(first.state == S.new)
        #expect(first.connectionID == 0)

        // The server itself answers with port unreachable.
        let unreachable = PacketBuilder.icmpError(.portUnreachable, from: server.address, about: query)
        let v = r.run(unreachable)
        #expect(v.state == S.relRpl)
        #expect(v.connectionID == 0)
        // A datagram of the server towards the client's port is still the same connection.
        let answer = PacketBuilder.udp(from: server, to: client, payload: [5, 6])
        let w = r.run(answer)
        #expect(w.state == S.estRpl)
        #expect(w.connectionID == 0)
        // An error about the server's datagram goes to the server: +rel without +rpl.
        let aboutAnswer = PacketBuilder.icmpError(.portUnreachable, from: client.address, about: answer)
        #expect(r.run(aboutAnswer).state == S.rel)
        #expect(r.ct.stats.committed == 1)
        #expect(r.ct.stats.committedByProtocol[Int(IPProtocol.udp)] == 1)
        #expect(r.ct.stats.committedByProtocol[Int(net.icmpProto)] == 0)
    }

    @Test(arguments: Net.allCases)
    func timeExceededAboutAnEchoRequestIsRelatedReply(net: Net) {
        let r = FrameRunner()
        let echo = PacketBuilder.icmpEcho(from: net.client.address, to: net.server.address,
                                          identifier: 0x1234, sequence: 1)
        #expect(r.run(echo).state == S.new)
        let error = PacketBuilder.icmpError(.timeExceeded, from: net.router, about: echo)
        let v = r.run(error)
        #expect(v.state == S.relRpl)
        #expect(v.connectionID == 0)
        #expect(r.ct.stats.committedByProtocol[Int(net.icmpProto)] == 1)  // the echo, not the error
    }

    @Test(arguments: Net.allCases)
    func errorsQuotingAnUnknownTupleAreInvalid(net: Net) {
        let r = FrameRunner()
        // Nothing tracked yet.
        let strangerSyn = PacketBuilder.tcp(from: net.client.with(port: 41000), to: net.server, flags: .syn,
                                            seq: 1, options: TCPOption.synDefaults)
        let v = r.run(PacketBuilder.icmpError(.hostUnreachable, from: net.router, about: strangerSyn))
        #expect(v.state == S.inv)
        #expect(v.invalidReason == .icmpErrorUnrelated)
        #expect(v.connectionID == Connection.noID)
        #expect(r.ct.count == 0)

        // A tracked UDP flow; errors about other ports, another protocol, or after it expired.
        let query = PacketBuilder.udp(from: net.client.with(port: 5353), to: net.server.with(port: 53))
        let t0 = r.time
        #expect(r.run(query).state == S.new)
        let otherPort = PacketBuilder.udp(from: net.client.with(port: 5354), to: net.server.with(port: 53))
        #expect(r.run(PacketBuilder.icmpError(.portUnreachable, from: net.router, about: otherPort)).state == S.inv)
        let tcpSamePorts = PacketBuilder.tcp(from: net.client.with(port: 5353), to: net.server.with(port: 53),
                                             flags: .syn, seq: 1)
        #expect(r.run(PacketBuilder.icmpError(.portUnreachable, from: net.router, about: tcpSamePorts)).state == S.inv)
        // udp_first is 60 s: at exactly 60 s the connection is gone, so is the relation.
        let aboutQuery = PacketBuilder.icmpError(.portUnreachable, from: net.router, about: query)
        #expect(r.run(aboutQuery, at: t0 + 60 * second - 1).state == S.relRpl)
        let late = r.run(aboutQuery, at: t0 + 60 * second)
        #expect(late.state == S.inv)
        #expect(late.invalidReason == .icmpErrorUnrelated)

        #expect(r.ct.stats.invalidByReason[Int(InvalidReason.icmpErrorUnrelated.rawValue)] == 4)
        #expect(r.ct.stats.committed == 1)
    }

    @Test(arguments: Net.allCases)
    func errorWithTooShortAQuoteIsInvalid(net: Net) {
        let r = FrameRunner()
        let query = PacketBuilder.udp(from: net.client.with(port: 5353), to: net.server.with(port: 53))
        _ = r.run(query)
        // Only the IP header quoted, no ports: the connection cannot be found.
        let headerOnly = PacketBuilder.icmpError(.portUnreachable, from: net.router, about: query,
                                                 quoteBytes: net == .ipv4 ? 20 : 40)
        let v = r.run(headerOnly)
        #expect(v.state == S.inv)
        #expect(v.invalidReason == .icmpErrorUnrelated)
    }
}

/// Checksum policies: `.enforce` makes a bad checksum +inv (badChecksum), `.count` counts it and
/// tracks the packet as usual, `.off` does not look.
@Suite struct PartitionChecksumFrameTests {
    enum L4: String, CaseIterable, Sendable { case tcp, udp, icmpEcho }

    /// A first packet of each kind, and where its checksum field is.
    static func firstPacket(_ l4: L4, net: Net) -> (frame: [UInt8], checksumAt: Int) {
        switch l4 {
        case .tcp:
            return (PacketBuilder.tcp(from: net.client, to: net.server, flags: .syn, seq: 1000,
                                      options: TCPOption.synDefaults), net.l4Offset + 16)
        case .udp:
            return (PacketBuilder.udp(from: net.client, to: net.server.with(port: 53), payload: [9, 9, 9]),
                    net.l4Offset + 6)
        case .icmpEcho:
            return (PacketBuilder.icmpEcho(from: net.client.address, to: net.server.address,
                                           identifier: 7, sequence: 1, payload: [1, 2, 3]), net.l4Offset + 2)
        }
    }

    @Test(arguments: Net.allCases, L4.allCases)
    func badTransportChecksumPerPolicy(net: Net, l4: L4) {
        let (good, at) = Self.firstPacket(l4, net: net)
        let bad = corrupting(good, at: at)
        for policy in ChecksumPolicy.allCases {
            let r = FrameRunner(ConntrackConfig(checksums: policy))
            let v = r.run(bad)
            switch policy {
            case .enforce:
                #expect(v.state == S.inv, "\(policy)")
                #expect(v.invalidReason == .badChecksum)
                #expect(v.connectionID == Connection.noID)
                #expect(r.ct.count == 0)
                #expect(r.ct.stats.badChecksums == 1)
                #expect(r.ct.stats.invalidByReason[Int(InvalidReason.badChecksum.rawValue)] == 1)
                // The intact packet is then the first of the connection.
                let fixed = r.run(good)
                #expect(fixed.state == S.new)
                #expect(fixed.connectionID == 1)
            case .count:
                #expect(v.state == S.new, "\(policy)")
                #expect(v.invalidReason == nil)
                #expect(v.connectionID == 0)
                #expect(r.ct.count == 1)
                #expect(r.ct.stats.badChecksums == 1)
                #expect(r.ct.stats.invalidByReason.allSatisfy { $0 == 0 })
            case .off:
                #expect(v.state == S.new, "\(policy)")
                #expect(v.connectionID == 0)
                #expect(r.ct.stats.badChecksums == 0)
            }
            // Good checksums are never counted.
            let clean = FrameRunner(ConntrackConfig(checksums: policy))
            #expect(clean.run(good).state == S.new)
            #expect(clean.ct.stats.badChecksums == 0)
        }
    }

    @Test(arguments: ChecksumPolicy.allCases)
    func badIPv4HeaderChecksumPerPolicy(policy: ChecksumPolicy) {
        let net = Net.ipv4
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        let r = FrameRunner(ConntrackConfig(checksums: policy))
        #expect(r.run(Array(frames[0...1])).map(\.state) == [S.new, S.estRpl])
        // The ACK with its IPv4 header checksum (bytes 24-25 of the frame) broken.
        let v = r.run(corrupting(frames[2], at: 14 + 10))
        switch policy {
        case .enforce:
            #expect(v.state == S.inv)
            #expect(v.invalidReason == .badChecksum)
            #expect(v.connectionID == Connection.noID)
            #expect(r.ct.stats.badChecksums == 1)
        case .count:
            #expect(v.state == S.est)
            #expect(v.connectionID == 0)
            #expect(r.ct.stats.badChecksums == 1)
        case .off:
            #expect(v.state == S.est)
            #expect(r.ct.stats.badChecksums == 0)
        }
    }

    /// UDP over IPv4 may leave its checksum 0 (none); over IPv6 a zero checksum is wrong.
    @Test(arguments: Net.allCases)
    func zeroUDPChecksum(net: Net) {
        var frame = PacketBuilder.udp(from: net.client, to: net.server.with(port: 53), payload: [1])
        frame[net.l4Offset + 6] = 0
        frame[net.l4Offset + 7] = 0
        let r = FrameRunner(ConntrackConfig(checksums: .enforce))
        let v = r.run(frame)
        if net == .ipv4 {
            #expect(v.state == S.new)
            #expect(r.ct.stats.badChecksums == 0)
        } else {
            #expect(v.state == S.inv)
            #expect(v.invalidReason == .badChecksum)
            #expect(r.ct.stats.badChecksums == 1)
        }
    }

    @Test(arguments: Net.allCases)
    func badChecksumOnAnICMPErrorIsInvalidWhenEnforced(net: Net) {
        let r = FrameRunner(ConntrackConfig(checksums: .enforce))
        let query = PacketBuilder.udp(from: net.client, to: net.server.with(port: 53))
        _ = r.run(query)
        let error = PacketBuilder.icmpError(.portUnreachable, from: net.router, about: query)
        let v = r.run(corrupting(error, at: net.l4Offset + 2))
        #expect(v.state == S.inv)
        #expect(v.invalidReason == .badChecksum)
        #expect(r.run(error).state == S.relRpl)
    }
}

/// ICMP errors whose destination is not the source of the packet they quote.
@Suite struct MisdirectedICMPErrorTests {
    /// One's-complement sum of 16-bit big-endian words (RFC 1071), folded, not inverted.
    static func sum(_ bytes: ArraySlice<UInt8>, into start: UInt32 = 0) -> UInt32 {
        var total = start
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex { total += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
        if i < bytes.endIndex { total += UInt32(bytes[i]) << 8 }
        while total > 0xFFFF { total = (total & 0xFFFF) + (total >> 16) }
        return total
    }

    /// `frame` (an ICMP error built by `PacketBuilder`) sent to `destination` instead, with every
    /// checksum made right again.
    static func readdressed(_ frame: [UInt8], to destination: Endpoint, net: Net) -> [UInt8] {
        var f = frame
        let other = PacketBuilder.udp(from: destination, to: destination)  // its IP header holds the address
        if net == .ipv4 {
            f.replaceSubrange(30..<34, with: other[30..<34])
            f[24] = 0; f[25] = 0
            let c = ~UInt16(sum(f[14..<34]))
            f[24] = UInt8(c >> 8); f[25] = UInt8(c & 0xFF)
        } else {
            f.replaceSubrange(38..<54, with: other[38..<54])
            let l4 = 54
            f[l4 + 2] = 0; f[l4 + 3] = 0
            let length = UInt32(f.count - l4)
            let pseudo = sum(f[22..<54], into: length + UInt32(IPProtocol.icmpv6))
            let c = ~UInt16(sum(f[l4...], into: pseudo))
            f[l4 + 2] = UInt8(c >> 8); f[l4 + 3] = UInt8(c & 0xFF)
        }
        return f
    }

    /// OVS (lib/conntrack.c `extract_l4_icmp` / `extract_l4_icmp6`: "inner_key.src != key->dst:
    /// return false") refuses an ICMP error whose destination is not the quoted packet's source:
    /// the key cannot be extracted and the packet is +trk+inv. So does the partition: an error
    /// quoting the client's segment but addressed to the server is +trk+inv, not +rel.
    @Test(arguments: Net.allCases)
    func errorNotAddressedToTheQuotedSourceIsInvalid(net: Net) {
        let r = FrameRunner(ConntrackConfig(checksums: .enforce))
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        c.send(fromClient: true, text: "GET / HTTP/1.1\r\n\r\n", into: &frames)
        #expect(r.run(frames).map(\.state) == [S.new, S.estRpl, S.est, S.est])

        let toClient = PacketBuilder.icmpError(.hostUnreachable, from: net.router, about: frames[3])
        let toServer = Self.readdressed(toClient, to: net.server, net: net)
        let packet = parse(toServer)
        #expect(packet.key.dst == net.server.address)
        #expect(packet.key.src == net.router)

        let v = r.run(toServer)
        #expect(r.ct.stats.badChecksums == 0)  // the frame is well-formed: only its address is wrong
        #expect(v.state == S.inv)
        #expect(v.invalidReason == .icmpErrorUnrelated)
        // The well-addressed error is related, for comparison.
        #expect(r.run(toClient).state == S.relRpl)
    }
}
