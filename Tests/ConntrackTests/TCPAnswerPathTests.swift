@testable import Conntrack
import PacketParsing
import Testing

/// The handshake's answer (`TCPTracker.trackAnswer`) against the step-by-step path
/// (`trackAnyState`) on the segments `isAnswer` admits: SYN|ACK from a peer that has sent
/// nothing to one in SYN_SENT. Random peers (every scale combination, fresh and picked-up
/// limits, sequence numbers near the wrap) and segments in, near and far outside the windows,
/// with and without a window-scale option: the same result and the same peers whether
/// accepted or refused (both keep what the first segment taught on a refusal), and where
/// accepted the same timeout, restarted.
@Suite struct TCPAnswerPathTests {
    @Test func theAnswerPathDoesWhatTheGeneralOneDoes() {
        var random = TCPEstablishedPathTests.Generator(state: 0x5EED_A45E)
        let flagChoices: [TCPFlags] = [[.syn, .ack], [.syn, .ack, .psh], [.syn, .ack, .ece], [.syn, .ack, .ece, .cwr],
                                       [.syn, .ack, .urg]]
        var accepted = 0
        var reasons: [TCPInvalidReason: Int] = [:]
        for _ in 0..<200_000 {
            var sender = random.peer(), receiver = random.peer()
            sender.state = random.below(2) == 0 ? .closed : .listen
            if random.below(2) == 0 { sender.sequenceLimit = 1 }  // as `TCPTracker.start` leaves the reply peer
            if random.below(4) == 0 { sender.maxWindow = 1 }
            receiver.state = .synSent
            let flags = flagChoices[Int(random.below(UInt64(flagChoices.count)))]
            let wscale: UInt8 = switch random.below(4) {
            case 0: TCPWindowScale.absent
            case 1: UInt8(random.below(256))
            default: UInt8(random.below(15))
            }
            let length = random.below(4) == 0 ? UInt32(random.below(70_000)) : 0
            let packet = segment(flags, seq: UInt32(truncatingIfNeeded: random.next()), ack: random.near(receiver.sequenceEnd),
                                 window: UInt16(truncatingIfNeeded: random.next()), length: length, wscale: wscale)
            #expect(TCPTracker.isAnswer(packet.tcpFlags, sender: sender.state, receiver: receiver.state))
            #expect(!TCPFlagRules.isInvalid(packet.tcpFlags))

            var fastSender = sender, fastReceiver = receiver, fastTimeout = TCPTimeoutClass.firstPacket
            let fast = TCPTracker.trackAnswer(packet, sender: &fastSender, receiver: &fastReceiver, timeout: &fastTimeout)
            var slowSender = sender, slowReceiver = receiver
            var slowTimeout = TCPTimeoutClass.firstPacket, slowRefreshed = false
            let slow = TCPTracker.trackAnyState(packet, sender: &slowSender, receiver: &slowReceiver,
                                                timeout: &slowTimeout, refreshed: &slowRefreshed)
            #expect(fast == slow)
            #expect(fastSender == slowSender && fastReceiver == slowReceiver)
            if fast == .valid {
                accepted += 1
                #expect(slowRefreshed && fastTimeout == slowTimeout)
                #expect(fastReceiver.state == .established && fastSender.state == .synSent)
            } else if case .invalid(let reason) = fast {
                reasons[reason, default: 0] += 1
            }
            if fast != slow || fastSender != slowSender || fastReceiver != slowReceiver { break }
        }
        // Every outcome is well represented: the generator reaches each check.
        // (Never below the window: its lower edge is the answer's own sequence number less a
        // window below 2^31. Above it only where the sender's limit was not moved: ~0.3%.)
        #expect(accepted > 20_000, "\(accepted) accepted")
        #expect(reasons[.seqAboveWindow, default: 0] > 300, "\(reasons)")
        #expect(reasons[.ackAheadOfData, default: 0] > 5_000 && reasons[.ackBehindWindow, default: 0] > 5_000, "\(reasons)")
    }

    /// A SYN's offered scale is taken off its window rounded up (OVS `DIV_ROUND_UP`), for every
    /// window and shift the tracker can meet, as a division would.
    @Test func unscalingRoundsUp() {
        for shift in UInt32(0)...15 {
            for window in stride(from: UInt32(0), through: 0xFFFF, by: 7) {
                let exact = (window + (1 << shift) - 1) / (1 << shift)
                if TCPScale.unscale(window, by: shift) != exact {
                    Issue.record("unscale(\(window), by: \(shift)) = \(TCPScale.unscale(window, by: shift)), not \(exact)")
                    return
                }
            }
        }
        #expect(TCPScale.unscale(0xFFFF, by: 14) == 4)
        #expect(TCPScale.unscale(64_240, by: 7) == 502)
    }

    /// What `isAnswer` leaves to the general path: a bare SYN, a SYN|ACK with FIN or RST, an
    /// answer from a peer that has sent its SYN, or to one that is not waiting for it.
    @Test func onlyTheFirstAnswerToASYNIsAdmitted() {
        #expect(TCPTracker.isAnswer([.syn, .ack], sender: .closed, receiver: .synSent))
        #expect(TCPTracker.isAnswer([.syn, .ack, .psh], sender: .listen, receiver: .synSent))
        #expect(!TCPTracker.isAnswer(.syn, sender: .closed, receiver: .synSent))
        #expect(!TCPTracker.isAnswer([.syn, .ack, .fin], sender: .closed, receiver: .synSent))
        #expect(!TCPTracker.isAnswer([.syn, .ack, .rst], sender: .closed, receiver: .synSent))
        #expect(!TCPTracker.isAnswer([.syn, .ack], sender: .synSent, receiver: .synSent))  // a retransmitted answer
        #expect(!TCPTracker.isAnswer([.syn, .ack], sender: .closed, receiver: .established))
        #expect(!TCPTracker.isAnswer(.ack, sender: .closed, receiver: .synSent))
    }
}
