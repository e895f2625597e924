import Conntrack
import PacketParsing
import Testing
import TraceSynthesis

/// Test vectors for one conntrack partition fed with real TCP frames (built by `TCPConversation`
/// and `PacketBuilder`, parsed by `PacketParser`): exact ct_state, connection id and counters per
/// packet, IPv4 and IPv6, as Open vSwitch's userspace conntrack answers them.
@Suite struct PartitionTCPFrameTests {
    // MARK: - Handshake, data, close

    @Test(arguments: Net.allCases)
    func handshakeDataAndCloseToTimeWait(net: Net) {
        let r = FrameRunner()
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)

        let syn = r.run(frames[0])
        #expect(syn.state == S.new)
        #expect(syn.connectionID == 0)
        #expect(syn.zone == 0)
        #expect(!syn.refusedByLimit)
        #expect(r.ct.dumpConnections() == ["tcp," + net.dumpTuples() + ",id=0,protoinfo=(state=SYN_SENT)"])
        #expect(r.ct.connections.map(\.timeoutClass) == [.tcpFirstPacket])

        let rest = r.run(Array(frames[1...]))
        #expect(rest.map(\.state) == [S.estRpl, S.est])
        #expect(rest.map(\.connectionID) == [0, 0])
        #expect(r.ct.dumpConnections() == ["tcp," + net.dumpTuples() + ",id=0,protoinfo=(state=ESTABLISHED)"])
        #expect(r.ct.connections.map(\.timeoutClass) == [.tcpEstablished])

        // Data both ways: a request, a 3000-byte answer in three segments, the client's ACK.
        frames = []
        c.send(fromClient: true, text: "GET / HTTP/1.1\r\n\r\n", into: &frames)
        c.send(fromClient: false, payload: [UInt8](repeating: 0x41, count: 3000), acked: true, into: &frames)
        let data = r.run(frames)
        #expect(data.map(\.state) == [S.est, S.estRpl, S.estRpl, S.estRpl, S.est])
        #expect(data.allSatisfy { $0.connectionID == 0 && $0.invalidReason == nil })

        // FIN|ACK, ACK, FIN|ACK, ACK from the client first.
        frames = []
        c.close(into: &frames)
        let close = r.run(frames)
        #expect(close.map(\.state) == [S.est, S.estRpl, S.estRpl, S.est])
        #expect(close.allSatisfy { $0.connectionID == 0 })
        #expect(r.ct.dumpConnections() == ["tcp," + net.dumpTuples() + ",id=0,protoinfo=(state=TIME_WAIT)"])
        #expect(r.ct.connections.map(\.timeoutClass) == [.tcpClosed])

        let stats = r.ct.stats
        #expect(stats.committed == 1)
        #expect(stats.committedByProtocol[Int(IPProtocol.tcp)] == 1)
        #expect(stats.packetsByState[Int(S.new.rawValue)] == 1)
        #expect(stats.packetsByState[Int(S.est.rawValue)] == 5)
        #expect(stats.packetsByState[Int(S.estRpl.rawValue)] == 6)
        #expect(stats.invalidByReason.allSatisfy { $0 == 0 })
        #expect(stats.badChecksums == 0)
        #expect(r.ct.count == 1)
    }

    @Test(arguments: Net.allCases)
    func closeStartedByTheServer(net: Net) {
        let r = FrameRunner()
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        c.close(initiatedByClient: false, into: &frames)
        let v = r.run(frames)
        #expect(v.map(\.state) == [S.new, S.estRpl, S.est, S.estRpl, S.est, S.est, S.estRpl])
        #expect(v.allSatisfy { $0.connectionID == 0 })
        #expect(r.ct.dumpConnections() == ["tcp," + net.dumpTuples() + ",id=0,protoinfo=(state=TIME_WAIT)"])
    }

    // MARK: - Reopen after TIME_WAIT

    @Test(arguments: Net.allCases)
    func newSynAfterTimeWaitReplacesTheConnection(net: Net) {
        let r = FrameRunner()
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        c.send(fromClient: true, text: "hello\r\n", acked: true, into: &frames)
        c.close(into: &frames)
        let first = r.run(frames)
        #expect(first.count == 9)
        #expect(first.allSatisfy { $0.connectionID == 0 && !$0.state.contains(.invalid) })

        // Same 5-tuple, new ISNs: OVS's CT_UPDATE_NEW deletes the old entry and commits anew.
        var again = net.conversation(clientISN: 90_000_000, serverISN: 7_000_000)
        frames = []
        again.handshake(into: &frames)
        let reopenIndex = r.index
        #expect(reopenIndex == 9)
        let second = r.run(frames)
        #expect(second.map(\.state) == [S.new, S.estRpl, S.est])
        #expect(second.map(\.connectionID) == [9, 9, 9])
        #expect(r.ct.stats.replaced == 1)
        #expect(r.ct.stats.expired == 0)
        #expect(r.ct.stats.committed == 2)
        #expect(r.ct.stats.committedByProtocol[Int(IPProtocol.tcp)] == 2)
        #expect(r.ct.count == 1)
        #expect(r.ct.dumpConnections() == ["tcp," + net.dumpTuples() + ",id=9,protoinfo=(state=ESTABLISHED)"])
    }

    // MARK: - RST

    @Test(arguments: Net.allCases)
    func resetClosesAndAMismatchedResetIsInvalid(net: Net) {
        let r = FrameRunner()
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        c.send(fromClient: true, text: "hello\r\n", into: &frames)
        #expect(r.run(frames).map(\.state) == [S.new, S.estRpl, S.est, S.est])

        // A RST inside the window but not at the sequence number the server is at: OVS refuses it
        // (blind-reset protection) and the connection stays established.
        let blind = PacketBuilder.tcp(from: net.server, to: net.client, flags: [.rst, .ack],
                                      seq: c.serverNextSeq &+ 5000, ack: c.clientNextSeq)
        let refused = r.run(blind)
        #expect(refused.state == S.inv)
        #expect(refused.invalidReason == .tcpInvalidUpdate)
        #expect(refused.connectionID == 0)
        #expect(r.ct.stats.tcpInvalidByReason[Int(TCPInvalidReason.resetSequenceMismatch.rawValue)] == 1)
        #expect(r.ct.dumpConnections() == ["tcp," + net.dumpTuples() + ",id=0,protoinfo=(state=ESTABLISHED)"])

        // The server's RST|ACK at its next sequence number closes the connection.
        frames = []
        c.reset(fromClient: false, into: &frames)
        let reset = r.run(frames[0])
        #expect(reset.state == S.estRpl)
        #expect(reset.connectionID == 0)
        #expect(r.ct.dumpConnections() == ["tcp," + net.dumpTuples() + ",id=0,protoinfo=(state=TIME_WAIT)"])
        #expect(r.ct.connections.map(\.timeoutClass) == [.tcpClosed])

        // A new SYN after the reset starts a new connection, named by its own packet index.
        let syn = PacketBuilder.tcp(from: net.client, to: net.server, flags: .syn, seq: 77_000,
                                    options: TCPOption.synDefaults)
        let index = r.index
        let reopened = r.run(syn)
        #expect(reopened.state == S.new)
        #expect(reopened.connectionID == index)
        #expect(r.ct.stats.replaced == 1)
        #expect(r.ct.count == 1)
    }

    @Test(arguments: Net.allCases)
    func resetAsFirstPacketIsNewButResetWithSynIsInvalid(net: Net) {
        let r = FrameRunner()
        // OVS's tcp_valid_new accepts a lone RST (no invalid flag combination) and picks it up.
        let rst = PacketBuilder.tcp(from: net.client, to: net.server, flags: [.rst, .ack], seq: 1, ack: 1)
        let v = r.run(rst)
        #expect(v.state == S.new)
        #expect(v.connectionID == 0)
        // SYN|RST never starts a connection.
        let synRst = PacketBuilder.tcp(from: net.client.with(port: 40001), to: net.server, flags: [.syn, .rst], seq: 1)
        let w = r.run(synRst)
        #expect(w.state == S.inv)
        #expect(w.invalidReason == .tcpInvalidNew)
        #expect(w.connectionID == Connection.noID)
        #expect(r.ct.count == 1)
    }

    // MARK: - Out of window, SYN+ACK first

    @Test(arguments: Net.allCases)
    func segmentBeyondTheWindowIsInvalid(net: Net) {
        let r = FrameRunner()
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        _ = r.run(frames)

        // 200 MB ahead: beyond even the server's scaled window (65160 << 7).
        let ahead = PacketBuilder.tcp(from: net.client, to: net.server, flags: [.psh, .ack],
                                      seq: c.clientNextSeq &+ 200_000_000, ack: c.serverNextSeq,
                                      window: 502, payload: Array("x".utf8))
        let v = r.run(ahead)
        #expect(v.state == S.inv)
        #expect(v.invalidReason == .tcpInvalidUpdate)
        #expect(v.connectionID == 0)
        #expect(r.ct.stats.invalidByReason[Int(InvalidReason.tcpInvalidUpdate.rawValue)] == 1)
        #expect(r.ct.stats.tcpInvalidByReason[Int(TCPInvalidReason.seqAboveWindow.rawValue)] == 1)

        // Far behind what the client already sent: below the window.
        let behind = PacketBuilder.tcp(from: net.client, to: net.server, flags: [.psh, .ack],
                                       seq: c.clientNextSeq &- 200_000_000, ack: c.serverNextSeq,
                                       window: 502, payload: Array("y".utf8))
        let w = r.run(behind)
        #expect(w.state == S.inv)
        #expect(w.invalidReason == .tcpInvalidUpdate)
        #expect(r.ct.stats.tcpInvalidByReason[Int(TCPInvalidReason.seqBelowWindow.rawValue)] == 1)

        // The connection is unharmed: in-window data goes on.
        frames = []
        c.send(fromClient: true, text: "ok\r\n", acked: true, into: &frames)
        #expect(r.run(frames).map(\.state) == [S.est, S.estRpl])
        #expect(r.ct.count == 1)
        #expect(r.ct.stats.committed == 1)
    }

    @Test(arguments: Net.allCases)
    func synAckAsFirstPacketIsInvalid(net: Net) {
        let r = FrameRunner()
        var c = net.conversation()
        let synAck = c.segment(fromClient: false, flags: [.syn, .ack], options: TCPOption.synDefaults)
        let v = r.run(synAck)
        #expect(v.state == S.inv)
        #expect(v.invalidReason == .tcpInvalidNew)
        #expect(v.connectionID == Connection.noID)
        #expect(!v.refusedByLimit)
        #expect(r.ct.count == 0)
        #expect(r.ct.stats.committed == 0)
        #expect(r.ct.stats.invalidByReason[Int(InvalidReason.tcpInvalidNew.rawValue)] == 1)
        #expect(r.ct.dumpConnections().isEmpty)
    }

    // MARK: - Connection limit

    @Test(arguments: Net.allCases)
    func fullTableRefusesTheThirdConnection(net: Net) {
        var policy = TimeoutPolicy.ovsDefaults
        policy[.tcpFirstPacket] = 30 * second
        let r = FrameRunner(ConntrackConfig(maxConnections: 2, timeouts: policy))
        var conversations = (0..<3).map { net.conversation(clientPort: 40000 + UInt16($0)) }
        var handshakes: [[[UInt8]]] = []
        for i in conversations.indices {
            var frames: [[UInt8]] = []
            conversations[i].handshake(into: &frames)
            handshakes.append(frames)
        }
        // Connection A completes its handshake; B sends only a SYN; C's SYN finds the table full.
        let a = r.run(handshakes[0])
        #expect(a.map(\.state) == [S.new, S.estRpl, S.est])
        let b = r.run(handshakes[1][0])
        #expect(b.state == S.new)
        #expect(b.connectionID == 3)
        let t0 = r.time
        let c = r.run(handshakes[2][0])
        #expect(c.state == S.new)  // OVS: +trk+new, the commit is dropped (conntrack_full)
        #expect(c.refusedByLimit)
        #expect(c.connectionID == Connection.noID)
        #expect(r.ct.stats.refusedByLimit == 1)
        #expect(r.ct.count == 2)
        // C's SYN+ACK then has no connection: SYN+ACK first, invalid.
        let cReply = r.run(handshakes[2][1])
        #expect(cReply.state == S.inv)
        #expect(cReply.invalidReason == .tcpInvalidNew)
        // A still works.
        var data: [[UInt8]] = []
        conversations[0].send(fromClient: false, text: "220\r\n", into: &data)
        let aData = r.run(data[0])
        #expect(aData.state == S.estRpl)
        #expect(aData.connectionID == 0)

        // B's SYN times out (tcp_syn_sent 30 s); once reclaimed, C's retransmitted SYN commits.
        r.ct.expire(upTo: t0 + 30 * second)
        #expect(r.ct.stats.expired == 1)
        #expect(r.ct.count == 1)
        let retry = r.index
        let c2 = r.run(handshakes[2][0], at: t0 + 31 * second)
        #expect(c2.state == S.new)
        #expect(!c2.refusedByLimit)
        #expect(c2.connectionID == retry)
        #expect(r.ct.count == 2)
        #expect(r.ct.stats.committed == 3)
        #expect(r.ct.stats.refusedByLimit == 1)
    }

    // MARK: - Expiry in trace time

    @Test(arguments: Net.allCases)
    func establishedExpiresAfterTwentyFourHoursByDefault(net: Net) {
        let r = FrameRunner()
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        _ = r.run(frames)
        let lastPacket = r.time - r.step
        r.ct.expire(upTo: lastPacket + 86_400 * second - 1)
        #expect(r.ct.count == 1)
        #expect(r.ct.dumpConnections().count == 1)
        r.ct.expire(upTo: lastPacket + 86_400 * second)
        #expect(r.ct.count == 0)
        #expect(r.ct.dumpConnections().isEmpty)
        #expect(r.ct.stats.expired == 1)
    }

    @Test(arguments: Net.allCases)
    func shortTimeoutsExpireOnThePacketPath(net: Net) {
        var policy = TimeoutPolicy.ovsDefaults
        policy[.tcpFirstPacket] = 2 * second
        policy[.tcpOpening] = 4 * second
        policy[.tcpEstablished] = 10 * second
        let r = FrameRunner(ConntrackConfig(timeouts: policy))
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        c.send(fromClient: true, text: "a\r\n", into: &frames)
        c.send(fromClient: true, text: "b\r\n", into: &frames)

        #expect(r.run(frames[0], at: 1 * second).state == S.new)            // expires at 3 s
        #expect(r.run(frames[1], at: 2 * second + second / 2).state == S.estRpl)  // opening: 6.5 s
        #expect(r.run(frames[2], at: 3 * second).state == S.est)             // established: 13 s
        #expect(r.run(frames[3], at: 13 * second - 1).state == S.est)        // refreshed: 23 s - 1
        r.ct.expire(upTo: 23 * second - 2)
        #expect(r.ct.count == 1)
        #expect(r.ct.stats.expired == 0)

        // At the expiry instant the connection is gone: the next data segment is picked up
        // mid-stream as a new connection (OVS accepts a first packet without SYN).
        let index = r.index
        let late = r.run(frames[4], at: 23 * second - 1)
        #expect(late.state == S.new)
        #expect(late.connectionID == index)
        #expect(r.ct.stats.expired == 1)
        #expect(r.ct.stats.committed == 2)
        #expect(r.ct.count == 1)
    }

    @Test(arguments: Net.allCases)
    func unansweredSynExpiresAndTheLateSynAckIsInvalid(net: Net) {
        var policy = TimeoutPolicy.ovsDefaults
        policy[.tcpFirstPacket] = 2 * second
        let r = FrameRunner(ConntrackConfig(timeouts: policy))
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        #expect(r.run(frames[0], at: 10 * second).state == S.new)
        let justInTime = FrameRunner(ConntrackConfig(timeouts: policy))
        _ = justInTime.run(frames[0], at: 10 * second)
        #expect(justInTime.run(frames[1], at: 12 * second - 1).state == S.estRpl)

        let late = r.run(frames[1], at: 12 * second)
        #expect(late.state == S.inv)
        #expect(late.invalidReason == .tcpInvalidNew)
        #expect(r.ct.stats.expired == 1)
        #expect(r.ct.count == 0)
    }

    // MARK: - Zones

    @Test(arguments: Net.allCases)
    func zonesKeepTheSameTupleApart(net: Net) {
        let r = FrameRunner()
        var c = net.conversation()
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        let (syn, synAck) = (frames[0], frames[1])

        let z1 = r.run(syn, action: CTAction(zone: 1, commit: true))
        #expect(z1.state == S.new)
        #expect(z1.zone == 1)
        #expect(z1.connectionID == 0)
        // The reply looked up in zone 2 finds nothing there: SYN+ACK first, invalid.
        let wrongZone = r.run(synAck, action: CTAction(zone: 2, commit: true))
        #expect(wrongZone.state == S.inv)
        #expect(wrongZone.zone == 2)
        #expect(wrongZone.invalidReason == .tcpInvalidNew)
        // The same SYN in zone 2 is another connection.
        let z2 = r.run(syn, action: CTAction(zone: 2, commit: true))
        #expect(z2.state == S.new)
        #expect(z2.connectionID == 2)
        #expect(r.ct.count == 2)

        let reply1 = r.run(synAck, action: CTAction(zone: 1))
        #expect(reply1.state == S.estRpl)
        #expect(reply1.zone == 1)
        #expect(reply1.connectionID == 0)
        let reply2 = r.run(synAck, action: CTAction(zone: 2))
        #expect(reply2.state == S.estRpl)
        #expect(reply2.zone == 2)
        #expect(reply2.connectionID == 2)
        // Zone 0 (never committed) knows neither.
        #expect(r.run(synAck, action: CTAction(zone: 0)).state == S.inv)

        let established = "protoinfo=(state=ESTABLISHED)"
        #expect(r.ct.dumpConnections() == [
            "tcp," + net.dumpTuples() + ",id=0,zone=1," + established,
            "tcp," + net.dumpTuples() + ",id=2,zone=2," + established,
        ])

        // An ICMP error about the client's SYN is related only in the zone that has it.
        let error = PacketBuilder.icmpError(.hostUnreachable, from: net.router, about: syn)
        let inZone2 = r.run(error, action: CTAction(zone: 2))
        #expect(inZone2.state == S.relRpl)
        #expect(inZone2.connectionID == 2)
        let inZone3 = r.run(error, action: CTAction(zone: 3))
        #expect(inZone3.state == S.inv)
        #expect(inZone3.invalidReason == .icmpErrorUnrelated)

        r.ct.flush(zone: 1)
        #expect(r.ct.stats.flushed == 1)
        #expect(r.ct.dumpConnections() == ["tcp," + net.dumpTuples() + ",id=2,zone=2," + established])
        #expect(r.run(synAck, action: CTAction(zone: 1)).state == S.inv)
        r.ct.flush()
        #expect(r.ct.count == 0)
        #expect(r.ct.stats.flushed == 2)
    }
}
