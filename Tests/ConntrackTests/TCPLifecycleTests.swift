import Conntrack
import PacketParsing
import Testing

/// Handshake, data, teardown and reset: the state and timeout-class transitions OVS makes.
@Suite struct TCPLifecycleTests {
    @Test(arguments: [TestKeys.v4, TestKeys.v6])
    func handshakeDataAndCloseFromClientFirst(key: FlowKey) throws {
        let h = Handshake(key: key)
        var t = try #require(TCPTracker.start(h.syn))
        #expect(t.originState == .synSent)
        #expect(t.replyState == .closed)
        #expect(t.timeoutClass == .firstPacket)
        #expect(t.dumpStateName == "SYN_SENT")

        #expect(t.update(h.synAck, isReply: true) == .valid)
        #expect(t.originState == .established)  // the SYN+ACK acknowledged the client's SYN
        #expect(t.replyState == .synSent)
        #expect(t.timeoutClass == .opening)
        #expect(t.dumpStateName == "ESTABLISHED")

        #expect(t.update(h.ack, isReply: false) == .valid)
        #expect(t.originState == .established)
        #expect(t.replyState == .established)
        #expect(t.timeoutClass == .established)
        #expect(t.lastUpdateRefreshedTimeout)

        // Data both ways.
        #expect(t.update(segment([.ack, .psh], seq: 1001, ack: 5001, length: 100, key: key),
                         isReply: false) == .valid)
        #expect(t.update(segment([.ack, .psh], seq: 5001, ack: 1101, window: 65_160, length: 200,
                                 key: key, reply: true), isReply: true) == .valid)
        #expect(t.update(segment(.ack, seq: 1101, ack: 5201, key: key), isReply: false) == .valid)
        #expect(t.timeoutClass == .established)
        #expect(t.dumpStateName == "ESTABLISHED")

        // Client FIN: the client peer goes to CLOSING (OVS skips FIN_WAIT_1).
        #expect(t.update(segment([.fin, .ack], seq: 1101, ack: 5201, key: key), isReply: false)
                == .valid)
        #expect(t.originState == .closing)
        #expect(t.replyState == .established)
        #expect(t.timeoutClass == .closing)
        #expect(t.dumpStateName == "CLOSING")

        // Server ACKs the FIN (FIN counts one in the sequence space: ack 1102).
        #expect(t.update(segment(.ack, seq: 5201, ack: 1102, window: 65_160, key: key, reply: true),
                         isReply: true) == .valid)
        #expect(t.originState == .finWait2)
        #expect(t.replyState == .established)
        #expect(t.timeoutClass == .closing)
        #expect(t.dumpStateName == "TIME_WAIT")  // FIN_WAIT_2 prints as TIME_WAIT

        // Server FIN.
        #expect(t.update(segment([.fin, .ack], seq: 5201, ack: 1102, window: 65_160, key: key,
                                 reply: true), isReply: true) == .valid)
        #expect(t.originState == .finWait2)
        #expect(t.replyState == .closing)
        #expect(t.timeoutClass == .finWait)

        // Last ACK.
        #expect(t.update(segment(.ack, seq: 1102, ack: 5202, key: key), isReply: false) == .valid)
        #expect(t.originState == .finWait2)
        #expect(t.replyState == .finWait2)
        #expect(t.timeoutClass == .closed)
        #expect(t.dumpStateName == "TIME_WAIT")

        // A straggling retransmitted last ACK is still accepted.
        #expect(t.update(segment(.ack, seq: 1102, ack: 5202, key: key), isReply: false) == .valid)
        #expect(t.timeoutClass == .closed)
    }

    @Test func closeFromServerFirst() throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment([.fin, .ack], seq: 5001, ack: 1001, window: 65_160, reply: true),
                         isReply: true) == .valid)
        #expect(t.originState == .established)
        #expect(t.replyState == .closing)
        #expect(t.timeoutClass == .closing)
        #expect(t.update(segment(.ack, seq: 1001, ack: 5002), isReply: false) == .valid)
        #expect(t.replyState == .finWait2)
        #expect(t.timeoutClass == .closing)
        #expect(t.update(segment([.fin, .ack], seq: 1001, ack: 5002), isReply: false) == .valid)
        #expect(t.originState == .closing)
        #expect(t.timeoutClass == .finWait)
        #expect(t.update(segment(.ack, seq: 5002, ack: 1002, window: 65_160, reply: true),
                         isReply: true) == .valid)
        #expect(t.originState == .finWait2)
        #expect(t.replyState == .finWait2)
        #expect(t.timeoutClass == .closed)
        #expect(t.dumpStateName == "TIME_WAIT")
    }

    @Test func simultaneousClose() throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment([.fin, .ack], seq: 1001, ack: 5001), isReply: false) == .valid)
        #expect(t.originState == .closing)
        #expect(t.timeoutClass == .closing)
        // The server's FIN crosses the client's: its ACK does not cover the client's FIN, yet OVS
        // moves a CLOSING peer to FIN_WAIT_2 on any accepted ACK.
        #expect(t.update(segment([.fin, .ack], seq: 5001, ack: 1001, window: 65_160, reply: true),
                         isReply: true) == .valid)
        #expect(t.originState == .finWait2)
        #expect(t.replyState == .closing)
        #expect(t.timeoutClass == .finWait)
        #expect(t.update(segment(.ack, seq: 1002, ack: 5002), isReply: false) == .valid)
        #expect(t.originState == .finWait2)
        #expect(t.replyState == .finWait2)
        #expect(t.timeoutClass == .closed)
        #expect(t.update(segment(.ack, seq: 5002, ack: 1002, window: 65_160, reply: true),
                         isReply: true) == .valid)
        #expect(t.timeoutClass == .closed)
        #expect(t.dumpStateName == "TIME_WAIT")
    }

    /// After the handshake the client's highest sequence is still its ISN, 1000, in OVS: `start`
    /// records the SYN's own sequence number and pure ACKs do not move it. A RST must carry that
    /// number or one off it either way (a real stack sends 1001).
    @Test(arguments: [1000, 1001, 999] as [UInt32])
    func resetInWindowCloses(seq: UInt32) throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment([.rst, .ack], seq: seq, ack: 5001), isReply: false) == .valid)
        #expect(t.originState == .timeWait)
        #expect(t.replyState == .timeWait)
        #expect(t.timeoutClass == .closed)
        #expect(t.dumpStateName == "TIME_WAIT")
    }

    @Test func bareResetFromServerInWindowCloses() throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment(.rst, seq: 5001, window: 0, reply: true), isReply: true) == .valid)
        #expect(t.originState == .timeWait)
        #expect(t.replyState == .timeWait)
        #expect(t.timeoutClass == .closed)
    }

    @Test func resetAnsweringSynRefusesConnection() throws {
        // Port closed: the server answers the SYN with RST+ACK, sequence 0.
        let h = Handshake()
        var t = try #require(TCPTracker.start(h.syn))
        #expect(t.update(segment([.rst, .ack], seq: 0, ack: 1001, window: 0, reply: true),
                         isReply: true) == .valid)
        #expect(t.originState == .timeWait)
        #expect(t.replyState == .timeWait)
        #expect(t.timeoutClass == .closed)
    }

    @Test func resetAfterDataMatchesTheHighestSequenceSent() throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment([.ack, .psh], seq: 1001, ack: 5001, length: 500), isReply: false)
                == .valid)
        var copy = t
        #expect(copy.update(segment([.rst, .ack], seq: 1001, ack: 5001), isReply: false)
                == .invalid(.resetSequenceMismatch))
        #expect(t.update(segment([.rst, .ack], seq: 1501, ack: 5001), isReply: false) == .valid)
        #expect(t.dumpStateName == "TIME_WAIT")
    }

    @Test(arguments: [1002, 6001, 998, 0x8000_03E8] as [UInt32])
    func resetOutOfWindowIsInvalid(seq: UInt32) throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment([.rst, .ack], seq: seq, ack: 5001), isReply: false)
                == .invalid(.resetSequenceMismatch))
        #expect(t.originState == .established)
        #expect(t.replyState == .established)
        #expect(t.timeoutClass == .established)
        #expect(!t.lastUpdateRefreshedTimeout)
        // The connection carries on.
        #expect(t.update(segment(.ack, seq: 1001, ack: 5001), isReply: false) == .valid)
    }

    @Test func synOnClosedConnectionReopens() throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment([.fin, .ack], seq: 1001, ack: 5001), isReply: false) == .valid)
        #expect(t.update(segment([.fin, .ack], seq: 5001, ack: 1002, window: 65_160, reply: true),
                         isReply: true) == .valid)
        #expect(t.update(segment(.ack, seq: 1002, ack: 5002), isReply: false) == .valid)
        #expect(t.dumpStateName == "TIME_WAIT")
        #expect(t.timeoutClass == .closed)

        // A SYN with ACK is not a reopen: it is judged against the old connection.
        var copy = t
        #expect(copy.update(segment([.syn, .ack], seq: 5000, ack: 1001, window: 65_160, reply: true),
                            isReply: true) != .reopen)

        #expect(t.update(segment(.syn, seq: 900_000), isReply: false) == .reopen)
        #expect(t.originState == .closed)
        #expect(t.replyState == .closed)
        #expect(t.dumpStateName == "CLOSED")
        #expect(!t.lastUpdateRefreshedTimeout)
    }

    @Test func synFromReplySideAfterResetReopens() throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment([.rst, .ack], seq: 1001, ack: 5001), isReply: false) == .valid)
        #expect(t.update(segment(.syn, seq: 77, window: 65_160, reply: true), isReply: true)
                == .reopen)
        #expect(t.originState == .closed)
        #expect(t.replyState == .closed)
    }

    @Test func synDuringEstablishedIsNotReopen() throws {
        var t = try #require(Handshake().established())
        // A bare SYN far away from the connection's sequence space: out of window, not a reopen.
        #expect(t.update(segment(.syn, seq: 900_000), isReply: false) == .invalid(.seqAboveWindow))
        #expect(t.originState == .established)
    }
}
