@testable import Conntrack
import PacketParsing
import Testing

/// The established fast path (`TCPTracker.trackEstablished`) against the step-by-step one
/// (`trackAnyState`) on the packets it takes: ACK with no SYN, FIN or RST, both peers
/// established. Random peers (every scale combination, sequence numbers near the wrap) and
/// segments in, near and far outside the windows: the same result, timeout, refresh and peers.
@Suite struct TCPEstablishedPathTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        mutating func below(_ n: UInt64) -> UInt64 { next() % n }
        /// Near `base`: within a few windows either way, sometimes far off.
        mutating func near(_ base: UInt32) -> UInt32 {
            below(8) == 0 ? UInt32(truncatingIfNeeded: next()) : base &+ UInt32(truncatingIfNeeded: below(600_000)) &- 300_000
        }
        mutating func scale() -> UInt8 {
            switch below(4) {
            case 0: 0
            case 1: TCPScale.offered | UInt8(below(15))
            case 2: TCPScale.unknown
            default: TCPScale.offered | TCPScale.unknown | UInt8(below(15))
            }
        }
        mutating func peer() -> TCPPeer {
            var peer = TCPPeer()
            peer.state = .established
            peer.sequenceEnd = below(4) == 0 ? UInt32.max &- UInt32(below(100_000)) : UInt32(truncatingIfNeeded: next())
            peer.sequenceLimit = peer.sequenceEnd &+ UInt32(below(1 << 20))
            peer.maxWindow = UInt16(truncatingIfNeeded: next())
            peer.scale = scale()
            return peer
        }
    }

    @Test func theFastPathDoesWhatTheGeneralOneDoes() {
        var random = Generator(state: 0x7C9_5EED)
        let flagChoices: [TCPFlags] = [.ack, [.ack, .psh], [.ack, .urg], [.ack, .ece, .cwr], [.ack, .psh, .urg]]
        var taken = 0, valid = 0
        for _ in 0..<200_000 {
            let sender = random.peer(), receiver = random.peer()
            let flags = flagChoices[Int(random.below(UInt64(flagChoices.count)))]
            let length = random.below(3) == 0 ? 0 : UInt32(random.below(70_000))
            let packet = segment(flags, seq: random.near(sender.sequenceEnd), ack: random.near(receiver.sequenceEnd),
                                 window: UInt16(truncatingIfNeeded: random.next()), length: length)
            #expect(packet.tcpFlags.rawValue & TCPTracker.establishedPathMask == TCPFlags.ack.rawValue)

            var fastSender = sender, fastReceiver = receiver
            var fastTimeout = TCPTimeoutClass.firstPacket, fastRefreshed = false
            let fast = TCPTracker.trackEstablished(packet, sender: &fastSender, receiver: &fastReceiver,
                                                   timeout: &fastTimeout, refreshed: &fastRefreshed)
            var slowSender = sender, slowReceiver = receiver
            var slowTimeout = TCPTimeoutClass.firstPacket, slowRefreshed = false
            let slow = TCPTracker.trackAnyState(packet, sender: &slowSender, receiver: &slowReceiver,
                                                timeout: &slowTimeout, refreshed: &slowRefreshed)
            #expect(fast == slow)
            #expect(fastSender == slowSender)
            #expect(fastReceiver == slowReceiver)
            #expect(fastTimeout == slowTimeout)
            #expect(fastRefreshed == slowRefreshed)
            if fast != slow || fastSender != slowSender || fastReceiver != slowReceiver { break }
            taken += 1
            if fast == .valid { valid += 1 }
        }
        // Both outcomes are well represented: the generator reaches the checks and passes them.
        #expect(taken == 200_000)
        #expect(valid > 20_000 && valid < 180_000, "\(valid) valid")
    }

    /// Through `track` on an established connection: a plain ACK is accepted and slides the
    /// window, a FIN|ACK (not the fast path's) still moves the sender to closing.
    @Test func finOnAnEstablishedConnectionStillCloses() throws {
        let h = Handshake()
        var t = try #require(h.established())
        #expect(t.originState == .established && t.replyState == .established)
        // A FIN still closes (the general path), a plain ACK still slides the window.
        #expect(t.update(segment(.ack, seq: 1001, ack: 5001, length: 100), isReply: false) == .valid)
        #expect(t.update(segment([.ack, .fin], seq: 1101, ack: 5001), isReply: false) == .valid)
        #expect(t.originState == .closing)
    }
}
