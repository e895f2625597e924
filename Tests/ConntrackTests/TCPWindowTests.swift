import Conntrack
import PacketParsing
import Testing

/// Sequence and ACK window checks, window scaling, wrap-around and retransmissions.
@Suite struct TCPWindowTests {
    // After `Handshake().established()` (no scaling): the client may send up to 1001 + 65160 =
    // 66161; its recorded highest sequence is still its ISN 1000 (OVS `tcp_new_conn` records the
    // SYN's sequence and pure ACKs leave it); the server has sent up to 5001; windows 64240/65160.

    /// Both SYNs offer a window scale, so the server's window of 1000 means 128000 bytes.
    @Test func scaledWindowAdmitsSegmentThatOnlyFitsScaled() throws {
        let h = Handshake(clientScale: 7, serverScale: 7)
        var t = try #require(h.established())
        #expect(t.windowScales.origin == 7)
        #expect(t.windowScales.reply == 7)
        #expect(t.update(segment(.ack, seq: 5001, ack: 1001, window: 1000, reply: true),
                         isReply: true) == .valid)
        #expect(t.update(segment(.ack, seq: 1001, ack: 5001, window: 502, length: 50_000),
                         isReply: false) == .valid)
        // Ends at 101001: past 1001 + 65160 (unscaled), within 1001 + 1000 << 7.
        #expect(t.update(segment(.ack, seq: 51_001, ack: 5001, window: 502, length: 50_000),
                         isReply: false) == .valid)
        // Ends at 129002: one byte past 1001 + 128000.
        #expect(t.update(segment(.ack, seq: 101_001, ack: 5001, window: 502, length: 28_001),
                         isReply: false) == .invalid(.seqAboveWindow))
        #expect(t.update(segment(.ack, seq: 101_001, ack: 5001, window: 502, length: 28_000),
                         isReply: false) == .valid)
    }

    /// Only one SYN offers the option: OVS applies no scaling at all.
    @Test(arguments: [(UInt8(7), TCPWindowScale.absent), (TCPWindowScale.absent, UInt8(7))])
    func scalingNeedsBothSyns(clientScale: UInt8, serverScale: UInt8) throws {
        let h = Handshake(clientScale: clientScale, serverScale: serverScale)
        var t = try #require(h.established())
        #expect(t.windowScales.origin == 0)
        #expect(t.windowScales.reply == 0)
        #expect(t.update(segment(.ack, seq: 5001, ack: 1001, window: 1000, reply: true),
                         isReply: true) == .valid)
        #expect(t.update(segment(.ack, seq: 1001, ack: 5001, window: 502, length: 50_000),
                         isReply: false) == .valid)
        // Ends at 101001, past 1001 + 65160 from the SYN+ACK's unscaled window.
        #expect(t.update(segment(.ack, seq: 51_001, ack: 5001, window: 502, length: 50_000),
                         isReply: false) == .invalid(.seqAboveWindow))
        // Up to exactly 66161 is fine.
        #expect(t.update(segment(.ack, seq: 51_001, ack: 5001, window: 502, length: 15_160),
                         isReply: false) == .valid)
    }

    @Test func windowScaleOptionIsClampedTo14() throws {
        let h = Handshake(clientScale: 15, serverScale: 200)
        let t = try #require(h.established())
        #expect(t.windowScales.origin == 14)
        #expect(t.windowScales.reply == 14)
    }

    @Test(arguments: [UInt32(10_000_000), 0x7FFF_0000])
    func sequenceFarAboveWindowIsInvalid(distance: UInt32) throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment([.ack, .psh], seq: 1001 &+ distance, ack: 5001, length: 100),
                         isReply: false) == .invalid(.seqAboveWindow))
        #expect(!t.lastUpdateRefreshedTimeout)
        #expect(t.originState == .established)
        #expect(t.replyState == .established)
    }

    @Test func sequenceJustAboveWindowEdge() throws {
        var t = try #require(Handshake().established())
        var copy = t
        #expect(copy.update(segment([.ack, .psh], seq: 66_062, ack: 5001, length: 100),
                            isReply: false) == .invalid(.seqAboveWindow))
        #expect(t.update(segment([.ack, .psh], seq: 66_061, ack: 5001, length: 100),
                         isReply: false) == .valid)
    }

    @Test(arguments: [UInt32(10_000_000), 0x7000_0000])
    func sequenceFarBelowWindowIsInvalid(distance: UInt32) throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment([.ack, .psh], seq: 1001 &- distance, ack: 5001, length: 100),
                         isReply: false) == .invalid(.seqBelowWindow))
    }

    @Test func sequenceOneWindowBackIsTheEdge() throws {
        // A retransmission may start up to the receiver's largest window (65160) before the
        // highest sequence recorded (1000 here).
        var t = try #require(Handshake().established())
        var copy = t
        #expect(copy.update(segment([.ack, .psh], seq: 1000 &- 65_161, ack: 5001, length: 100),
                            isReply: false) == .invalid(.seqBelowWindow))
        #expect(t.update(segment([.ack, .psh], seq: 1000 &- 65_160, ack: 5001, length: 100),
                         isReply: false) == .valid)
        // After data the edge moves with the highest sequence sent.
        #expect(t.update(segment([.ack, .psh], seq: 1001, ack: 5001, length: 10_000),
                         isReply: false) == .valid)
        copy = t
        #expect(copy.update(segment([.ack, .psh], seq: 11_001 &- 65_161, ack: 5001, length: 100),
                            isReply: false) == .invalid(.seqBelowWindow))
        #expect(t.update(segment([.ack, .psh], seq: 11_001 &- 65_160, ack: 5001, length: 100),
                         isReply: false) == .valid)
    }

    @Test func ackTooFarAheadIsInvalid() throws {
        // The server has sent up to 5001; MAXACKWINDOW is 65535 + 1500 = 67035.
        var t = try #require(Handshake().established())
        var copy = t
        #expect(copy.update(segment(.ack, seq: 1001, ack: 5001 + 100_000), isReply: false)
                == .invalid(.ackAheadOfData))
        #expect(copy.update(segment(.ack, seq: 1001, ack: 5001 + 67_036), isReply: false)
                == .invalid(.ackAheadOfData))
        #expect(t.update(segment(.ack, seq: 1001, ack: 5001 + 67_035), isReply: false) == .valid)
    }

    @Test func ackTooFarBehindIsInvalid() throws {
        var t = try #require(Handshake().established())
        var copy = t
        #expect(copy.update(segment(.ack, seq: 1001, ack: 5001 &- 67_036), isReply: false)
                == .invalid(.ackBehindWindow))
        #expect(copy.update(segment(.ack, seq: 1001, ack: 5001 &- 1_000_000), isReply: false)
                == .invalid(.ackBehindWindow))
        #expect(t.update(segment(.ack, seq: 1001, ack: 5001 &- 67_035), isReply: false) == .valid)
    }

    @Test func ackBehindBoundGrowsWithTheSendersScale() throws {
        // With shift 7 the "behind" bound is 67035 << 7 = 8580480.
        var t = try #require(Handshake(clientScale: 7, serverScale: 7).established())
        var copy = t
        #expect(copy.update(segment(.ack, seq: 1001, ack: 5001 &- 8_580_481, window: 502),
                            isReply: false) == .invalid(.ackBehindWindow))
        #expect(t.update(segment(.ack, seq: 1001, ack: 5001 &- 8_580_480, window: 502),
                         isReply: false) == .valid)
    }

    @Test(arguments: [TestKeys.v4, TestKeys.v6])
    func sequenceWrapAround(key: FlowKey) throws {
        let client: UInt32 = 0xFFFF_FF00
        let server: UInt32 = 0xFFFF_FFF0
        let h = Handshake(client: client, server: server, clientScale: 7, serverScale: 7, key: key)
        var t = try #require(h.established())
        var c = client &+ 1
        var s = server &+ 1
        for _ in 0..<8 {
            #expect(t.update(segment([.ack, .psh], seq: c, ack: s, window: 502, length: 1000,
                                     key: key), isReply: false) == .valid)
            c &+= 1000
            #expect(t.update(segment([.ack, .psh], seq: s, ack: c, window: 509, length: 300,
                                     key: key, reply: true), isReply: true) == .valid)
            s &+= 300
        }
        #expect(c < client)  // both sides have wrapped past 2^32
        #expect(s < server)
        #expect(t.update(segment([.fin, .ack], seq: c, ack: s, window: 502, key: key),
                         isReply: false) == .valid)
        #expect(t.update(segment([.fin, .ack], seq: s, ack: c &+ 1, window: 509, key: key,
                                 reply: true), isReply: true) == .valid)
        #expect(t.update(segment(.ack, seq: c &+ 1, ack: s &+ 1, window: 502, key: key),
                         isReply: false) == .valid)
        #expect(t.timeoutClass == .closed)
        #expect(t.dumpStateName == "TIME_WAIT")
    }

    @Test func retransmittedSegmentsAreValid() throws {
        var t = try #require(Handshake().established())
        #expect(t.update(segment([.ack, .psh], seq: 1001, ack: 5001, length: 1000), isReply: false)
                == .valid)
        #expect(t.update(segment([.ack, .psh], seq: 2001, ack: 5001, length: 1000), isReply: false)
                == .valid)
        // The first segment again, then a partial overlap, then the server's duplicate ACK.
        #expect(t.update(segment([.ack, .psh], seq: 1001, ack: 5001, length: 1000), isReply: false)
                == .valid)
        #expect(t.update(segment([.ack, .psh], seq: 1501, ack: 5001, length: 1000), isReply: false)
                == .valid)
        #expect(t.update(segment(.ack, seq: 5001, ack: 2001, window: 65_160, reply: true),
                         isReply: true) == .valid)
        #expect(t.update(segment(.ack, seq: 5001, ack: 2001, window: 65_160, reply: true),
                         isReply: true) == .valid)
        // New data continues from the highest sequence sent.
        #expect(t.update(segment([.ack, .psh], seq: 3001, ack: 5001, length: 1000), isReply: false)
                == .valid)
        // A retransmitted FIN is valid too.
        #expect(t.update(segment([.fin, .ack], seq: 4001, ack: 5001), isReply: false) == .valid)
        #expect(t.update(segment([.fin, .ack], seq: 4001, ack: 5001), isReply: false) == .valid)
        #expect(t.originState == .closing)
        #expect(t.timeoutClass == .closing)
    }
}
