import Conntrack
import PacketParsing
import Testing

/// Which packets may create a connection, flag validation, and mid-stream pick-up.
@Suite struct TCPFirstPacketTests {
    static let invalidFlagSets: [TCPFlags] = [
        [.syn, .rst], [.syn, .fin], [.syn, .rst, .ack], [.syn, .fin, .ack],
        [.fin], [], [.psh], [.urg], [.fin, .psh], [.ece, .cwr],
    ]

    @Test(arguments: invalidFlagSets)
    func invalidFlagsCannotStartAConnection(flags: TCPFlags) {
        #expect(TCPTracker.start(segment(flags, seq: 1000)) == nil)
        #expect(TCPTracker.refusal(for: flags) == .invalidFlags)
    }

    @Test(arguments: invalidFlagSets)
    func invalidFlagsLaterAreInvalid(flags: TCPFlags) throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment(flags, seq: 1001, ack: 5001), isReply: false)
                == .invalid(.invalidFlags))
        #expect(t.update(segment(flags, seq: 5001, ack: 1001, reply: true), isReply: true)
                == .invalid(.invalidFlags))
        #expect(t.originState == .established)
        #expect(t.replyState == .established)
        #expect(t.timeoutClass == .established)
        #expect(!t.lastUpdateRefreshedTimeout)
    }

    @Test func invalidFlagsDuringHandshakeAreInvalid() throws {
        var t = try #require(TCPTracker.start(Handshake().syn))
        #expect(t.update(segment([], seq: 5000, reply: true), isReply: true)
                == .invalid(.invalidFlags))
        #expect(t.replyState == .closed)
        #expect(t.timeoutClass == .firstPacket)
    }

    @Test(arguments: [TestKeys.v4, TestKeys.v6])
    func synAckCannotStartAConnection(key: FlowKey) {
        #expect(TCPTracker.start(segment([.syn, .ack], seq: 5000, ack: 1001, key: key)) == nil)
        #expect(TCPTracker.refusal(for: [.syn, .ack]) == .synAckWithoutConnection)
    }

    @Test(arguments: [TCPFlags.syn, .ack, [.ack, .psh], .rst, [.rst, .ack], [.fin, .ack],
                      [.syn, .ece, .cwr]])
    func acceptedFirstPackets(flags: TCPFlags) throws {
        let t = try #require(TCPTracker.start(segment(flags, seq: 1000, ack: 77)))
        #expect(TCPTracker.refusal(for: flags) == nil)
        #expect(t.originState == .synSent)
        #expect(t.replyState == .closed)
        #expect(t.timeoutClass == .firstPacket)
        #expect(t.lastUpdateRefreshedTimeout)
        #expect(t.dumpStateName == "SYN_SENT")
    }

    @Test(arguments: [TestKeys.v4, TestKeys.v6])
    func midStreamPickUp(key: FlowKey) throws {
        // The first packet seen is data in an established connection.
        var t = try #require(TCPTracker.start(
            segment([.ack, .psh], seq: 7000, ack: 9000, window: 500, length: 100, key: key)))
        #expect(t.originState == .synSent)
        #expect(t.timeoutClass == .firstPacket)

        // The reply is the first packet from that side: accepted with the loose window set-up.
        #expect(t.update(segment([.ack, .psh], seq: 9000, ack: 7100, window: 600, length: 50,
                                 key: key, reply: true), isReply: true) == .valid)
        #expect(t.originState == .established)
        #expect(t.replyState == .synSent)
        #expect(t.timeoutClass == .opening)

        #expect(t.update(segment([.ack, .psh], seq: 7100, ack: 9050, window: 500, length: 100,
                                 key: key), isReply: false) == .valid)
        #expect(t.originState == .established)
        #expect(t.replyState == .established)
        #expect(t.timeoutClass == .established)
        #expect(t.dumpStateName == "ESTABLISHED")

        // Traffic both ways, windows read with the largest shift (scale unknown).
        var clientSeq: UInt32 = 7200
        var serverSeq: UInt32 = 9050
        for round in 0..<20 {
            let clientLength = UInt32(200 + round * 37)
            #expect(t.update(segment([.ack, .psh], seq: clientSeq, ack: serverSeq, window: 500,
                                     length: clientLength, key: key), isReply: false) == .valid)
            clientSeq &+= clientLength
            let serverLength = UInt32(1400 - round * 11)
            #expect(t.update(segment([.ack, .psh], seq: serverSeq, ack: clientSeq, window: 600,
                                     length: serverLength, key: key, reply: true), isReply: true)
                    == .valid)
            serverSeq &+= serverLength
        }
        #expect(t.windowScales.origin == 0)
        #expect(t.windowScales.reply == 0)
        #expect(t.timeoutClass == .established)
    }

    @Test func pickedUpSenderContinuesBeforeReplyOnLoosePath() throws {
        var t = try #require(TCPTracker.start(
            segment([.ack, .psh], seq: 7000, ack: 9000, window: 500, length: 100)))
        // Beyond the one-byte window OVS opens for the first packet, but within MAXACKWINDOW of
        // it while the other side is silent: accepted without touching the timer.
        #expect(t.update(segment([.ack, .psh], seq: 7100, ack: 9000, window: 500, length: 1000),
                         isReply: false) == .valid)
        #expect(!t.lastUpdateRefreshedTimeout)
        #expect(t.timeoutClass == .firstPacket)
        #expect(t.originState == .synSent)
        #expect(t.replyState == .closed)
        // Further than MAXACKWINDOW (65535 + 1500) ahead: invalid.
        #expect(t.update(segment([.ack, .psh], seq: 8100 + 70_000, ack: 9000, window: 500,
                                 length: 1000), isReply: false) == .invalid(.seqAboveWindow))
    }

    @Test func retransmittedSynIsValid() throws {
        let h = Handshake(clientScale: 7, serverScale: 7)
        var t = try #require(TCPTracker.start(h.syn))
        #expect(t.update(h.syn, isReply: false) == .valid)
        #expect(t.update(h.syn, isReply: false) == .valid)
        #expect(t.originState == .synSent)
        #expect(t.replyState == .closed)
        #expect(t.timeoutClass == .opening)
        #expect(t.update(h.synAck, isReply: true) == .valid)
        #expect(t.update(h.synAck, isReply: true) == .valid)  // retransmitted SYN+ACK
        #expect(t.update(h.ack, isReply: false) == .valid)
        #expect(t.originState == .established)
        #expect(t.replyState == .established)
        #expect(t.timeoutClass == .established)
        #expect(t.windowScales.origin == 7)
        #expect(t.windowScales.reply == 7)
    }

    /// Server ISNs outside the band of the OVS quirk below.
    @Test(arguments: [0, 0x7F00_0000, 0x7F83_82EE, 0x8000_FAF0, 0xC000_0000, 0xFFFF_FFFF]
          as [UInt32])
    func retransmittedSynThenHandshakeWithServerISN(server: UInt32) throws {
        let h = Handshake(client: 0xF000_0000, server: server, clientScale: 7, serverScale: 7)
        var t = try #require(TCPTracker.start(h.syn))
        #expect(t.update(h.syn, isReply: false) == .valid)
        #expect(t.update(h.synAck, isReply: true) == .valid)
        #expect(t.update(h.ack, isReply: false) == .valid)
        #expect(t.timeoutClass == .established)
        #expect(t.update(segment([.ack, .psh], seq: server &+ 1, ack: 0xF000_0001, window: 509,
                                 length: 1448, reply: true), isReply: true) == .valid)
    }

    /// An OVS quirk kept on purpose. A retransmitted SYN (no ACK) is judged as a later packet:
    /// its unscaled window (64240) becomes the client's largest window, and the silent server's
    /// limit slides to "ACK 0 + 64240". The SYN+ACK then keeps that limit unless
    /// ISN + 1 + (64240 << 7) is at or after 64240, and must end at or before it: server ISNs
    /// from 2^31 - 8158481 to 2^31 + 64239 fail both, and OVS marks that SYN+ACK invalid.
    /// Without the retransmission the same SYN+ACK is valid.
    @Test(arguments: [0x7F83_82EF, 0x7F90_0000, 0x7FFF_FFFF, 0x8000_0000, 0x8000_FAEF]
          as [UInt32])
    func retransmittedSynThenSynAckInOVSBandIsInvalid(server: UInt32) throws {
        let h = Handshake(client: 0xF000_0000, server: server, clientScale: 7, serverScale: 7)
        var retransmitted = try #require(TCPTracker.start(h.syn))
        #expect(retransmitted.update(h.syn, isReply: false) == .valid)
        #expect(retransmitted.update(h.synAck, isReply: true) == .invalid(.seqAboveWindow))

        var direct = try #require(TCPTracker.start(h.syn))
        #expect(direct.update(h.synAck, isReply: true) == .valid)
        #expect(direct.update(h.ack, isReply: false) == .valid)
    }
}
