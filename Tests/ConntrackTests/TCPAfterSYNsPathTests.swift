@testable import Conntrack
import PacketParsing
import Testing

/// The path after both SYNs (`TCPTracker.trackAfterSYNs`) against the step-by-step one
/// (`trackAnyState`) on the segments `isAfterSYNs` admits: ACK or FIN|ACK, no SYN or RST, from
/// a sender established or later to a receiver in SYN_SENT or later. Random peers in every such
/// state pair (every scale combination, sequence numbers near the wrap) and segments in, near
/// and far outside the windows: where the path accepts, the same result, peers, timeout and
/// refresh; where it refuses, nothing changed (then `trackAnyState` decides: its loose path or
/// +inv).
@Suite struct TCPAfterSYNsPathTests {
    static let senderStates: [TCPPeerState] = TCPPeerState.allCases.filter { $0 >= .established }
    static let receiverStates: [TCPPeerState] = TCPPeerState.allCases.filter { $0 >= .synSent }

    @Test func thePathAfterSYNsDoesWhatTheGeneralOneDoes() {
        var random = TCPEstablishedPathTests.Generator(state: 0xC105_E5EED)
        let flagChoices: [TCPFlags] = [.ack, [.ack, .fin], [.ack, .psh], [.ack, .fin, .psh], [.ack, .fin, .urg],
                                       [.ack, .ece, .cwr], [.ack, .fin, .ece]]
        var accepted = 0, refused = 0, refusedButLoose = 0
        var movedToClosing = 0, movedToFinWait2 = 0, movedToEstablished = 0
        for _ in 0..<200_000 {
            var sender = random.peer(), receiver = random.peer()
            sender.state = Self.senderStates[Int(random.below(UInt64(Self.senderStates.count)))]
            receiver.state = Self.receiverStates[Int(random.below(UInt64(Self.receiverStates.count)))]
            let flags = flagChoices[Int(random.below(UInt64(flagChoices.count)))]
            let length = random.below(3) == 0 ? 0 : UInt32(random.below(70_000))
            let packet = segment(flags, seq: random.near(sender.sequenceEnd), ack: random.near(receiver.sequenceEnd),
                                 window: UInt16(truncatingIfNeeded: random.next()), length: length)
            #expect(TCPTracker.isAfterSYNs(packet.tcpFlags, sender: sender.state, receiver: receiver.state))

            var fastSender = sender, fastReceiver = receiver
            let fast = TCPTracker.trackAfterSYNs(packet, sender: &fastSender, receiver: &fastReceiver)
            var slowSender = sender, slowReceiver = receiver
            var slowTimeout = TCPTimeoutClass.firstPacket, slowRefreshed = false
            let slow = TCPTracker.trackAnyState(packet, sender: &slowSender, receiver: &slowReceiver,
                                                timeout: &slowTimeout, refreshed: &slowRefreshed)
            if let fast {
                accepted += 1
                #expect(slow == .valid && slowRefreshed)
                #expect(fast == slowTimeout)
                #expect(fastSender == slowSender && fastReceiver == slowReceiver)
                if fastSender != slowSender || fastReceiver != slowReceiver || fast != slowTimeout { break }
                if sender.state < .closing && fastSender.state == .closing { movedToClosing += 1 }
                if receiver.state == .closing && fastReceiver.state == .finWait2 { movedToFinWait2 += 1 }
                if receiver.state == .synSent && fastReceiver.state == .established { movedToEstablished += 1 }
            } else {
                refused += 1
                #expect(fastSender == sender && fastReceiver == receiver)
                // The general path refuses it too, or takes it on its loose path, without
                // restarting the timer.
                #expect(slow != .valid || !slowRefreshed)
                if slow == .valid { refusedButLoose += 1 }
            }
        }
        // Every outcome is well represented: the generator reaches the checks and the states move.
        #expect(accepted > 20_000 && refused > 20_000, "\(accepted) accepted, \(refused) refused")
        #expect(refusedButLoose > 1_000, "\(refusedButLoose) taken loosely")
        #expect(movedToClosing > 1_000 && movedToFinWait2 > 1_000 && movedToEstablished > 1_000)
    }

    /// What `isAfterSYNs` leaves to the general path: a SYN or RST, a segment without ACK, a
    /// sender not yet established, a receiver that has not sent its SYN.
    @Test func synsResetsAndOpeningPeersAreNotAdmitted() {
        #expect(TCPTracker.isAfterSYNs([.ack, .fin], sender: .established, receiver: .established))
        #expect(TCPTracker.isAfterSYNs(.ack, sender: .finWait2, receiver: .timeWait))
        #expect(TCPTracker.isAfterSYNs(.ack, sender: .established, receiver: .synSent))  // the handshake's last ACK
        #expect(!TCPTracker.isAfterSYNs([.syn, .ack], sender: .established, receiver: .established))
        #expect(!TCPTracker.isAfterSYNs([.rst, .ack], sender: .established, receiver: .established))
        #expect(!TCPTracker.isAfterSYNs(.fin, sender: .established, receiver: .established))
        #expect(!TCPTracker.isAfterSYNs(.ack, sender: .synSent, receiver: .established))
        #expect(!TCPTracker.isAfterSYNs(.ack, sender: .established, receiver: .closed))
    }
}
