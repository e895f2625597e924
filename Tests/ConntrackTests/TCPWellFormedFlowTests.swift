import Conntrack
import PacketParsing
import Testing

/// Deterministic pseudo-random numbers (SplitMix64) for the generated flows.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15  // Wrapping: the generator's step is modulo 2^64.
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: UInt64) -> UInt64 { next() % n }
}

/// One side of a simulated, well-behaved TCP endpoint.
struct SimulatedEndpoint {
    var next: UInt32           // next sequence number to send
    var received: UInt32       // next sequence number expected from the peer (our ACK)
    var shift: UInt8           // our window shift, when scaling is in use
    var receiveWindow: UInt32  // bytes we are willing to receive
    var peerAcked: UInt32      // highest ACK received from the peer
    var peerWindow: UInt32     // the peer's window in bytes

    var rawWindow: UInt16 { UInt16(min(receiveWindow >> UInt32(shift), 0xFFFF)) }
    /// The window the peer reads from `rawWindow`.
    var advertised: UInt32 { UInt32(rawWindow) << UInt32(shift) }
}

/// Flows with correct sequence numbers, handshake, data both ways and a FIN teardown, as a
/// reference trace has them: every packet after the first must be valid (OVS reports no +inv).
@Suite struct TCPWellFormedFlowTests {
    @Test func tenThousandWellFormedFlowsAreAllValid() {
        var rng = SplitMix64(state: 0x5EED)
        var invalid = 0
        var packets = 0
        for flow in 0..<10_000 {
            let key = flow % 2 == 0 ? TestKeys.v4 : TestKeys.v6
            let (count, bad) = Self.runFlow(&rng, key: key)
            packets += count
            invalid += bad
        }
        #expect(invalid == 0)
        #expect(packets > 150_000)
    }

    /// Runs one flow; returns the packets tracked and how many were not `.valid`.
    static func runFlow(_ rng: inout SplitMix64, key: FlowKey) -> (Int, Int) {
        let scaleMode = rng.below(4)  // 0: none, 1: client only, 2: server only, 3: both
        let clientOffer: UInt8 = scaleMode & 1 != 0 ? UInt8(rng.below(10)) : TCPWindowScale.absent
        let serverOffer: UInt8 = scaleMode & 2 != 0 ? UInt8(rng.below(10)) : TCPWindowScale.absent
        let scaled = scaleMode == 3
        let synWindows: [UInt32] = [29_200, 64_240, 65_535, 14_600]
        let clientISN = UInt32(truncatingIfNeeded: rng.next())
        let serverISN = UInt32(truncatingIfNeeded: rng.next())
        var c = SimulatedEndpoint(
            next: clientISN, received: 0, shift: scaled ? clientOffer : 0,
            receiveWindow: synWindows[Int(rng.below(4))], peerAcked: 0, peerWindow: 0)
        var s = SimulatedEndpoint(
            next: serverISN, received: 0, shift: scaled ? serverOffer : 0,
            receiveWindow: synWindows[Int(rng.below(4))], peerAcked: 0, peerWindow: 0)
        var packets = 0
        var bad = 0
        func check(_ r: TCPUpdateResult) {
            packets += 1
            if r != .valid { bad += 1 }
        }

        // Handshake. SYN windows are never scaled.
        let syn = segment(.syn, seq: c.next, window: UInt16(c.receiveWindow), wscale: clientOffer,
                          key: key)
        guard var t = TCPTracker.start(syn) else { return (1, 1) }
        packets += 1
        c.next &+= 1  // Wrapping: sequence space.
        s.received = c.next
        check(t.update(segment([.syn, .ack], seq: s.next, ack: s.received,
                               window: UInt16(s.receiveWindow), wscale: serverOffer, key: key,
                               reply: true), isReply: true))
        s.next &+= 1
        c.received = s.next
        c.peerAcked = c.next
        c.peerWindow = s.receiveWindow
        // Windows grow after the handshake when scaling is in use.
        if scaled {
            c.receiveWindow = UInt32(rng.below(1 << 20)) + 65_536
            s.receiveWindow = UInt32(rng.below(1 << 20)) + 65_536
        }
        check(t.update(segment(.ack, seq: c.next, ack: c.received, window: c.rawWindow, key: key),
                       isReply: false))
        s.peerAcked = s.next
        s.peerWindow = c.advertised

        // Data rounds: a burst from one side within the peer's window, then the other side
        // acknowledges (with or without data of its own).
        let rounds = Int(rng.below(12)) + 2
        for _ in 0..<rounds {
            let clientSends = rng.below(2) == 0
            var sender = clientSends ? c : s
            var receiver = clientSends ? s : c
            let segments = Int(rng.below(6)) + 1
            for _ in 0..<segments {
                // Wrapping: bytes in flight, in sequence space.
                let inFlight = sender.next &- sender.peerAcked
                let room = sender.peerWindow > inFlight ? sender.peerWindow - inFlight : 0
                let length = min(UInt32(rng.below(1448)) + 1, room)
                if length == 0 { break }
                check(t.update(segment([.ack, .psh], seq: sender.next, ack: sender.received,
                                       window: sender.rawWindow, length: length, key: key,
                                       reply: !clientSends), isReply: !clientSends))
                sender.next &+= length
                receiver.received = sender.next
                // Now and then a retransmission of the segment just sent.
                if rng.below(10) == 0 {
                    check(t.update(segment([.ack, .psh], seq: sender.next &- length,
                                           ack: sender.received, window: sender.rawWindow,
                                           length: length, key: key, reply: !clientSends),
                                   isReply: !clientSends))
                }
            }
            let reply = UInt32(rng.below(3)) * 500
            check(t.update(segment([.ack, .psh], seq: receiver.next, ack: receiver.received,
                                   window: receiver.rawWindow, length: reply, key: key,
                                   reply: clientSends), isReply: clientSends))
            receiver.next &+= reply
            sender.received = receiver.next
            sender.peerAcked = receiver.received
            sender.peerWindow = receiver.advertised
            receiver.peerAcked = receiver.next  // the sender has all of it; it ACKs next round
            receiver.peerWindow = sender.advertised
            if clientSends { c = sender; s = receiver } else { s = sender; c = receiver }
        }
        // Make the last data acknowledged both ways.
        check(t.update(segment(.ack, seq: c.next, ack: c.received, window: c.rawWindow, key: key),
                       isReply: false))
        check(t.update(segment(.ack, seq: s.next, ack: s.received, window: s.rawWindow, key: key,
                               reply: true), isReply: true))

        // Teardown: client first, server first, or simultaneous.
        switch rng.below(3) {
        case 0, 1:
            let clientFirst = rng.below(2) == 0
            var a = clientFirst ? c : s
            var b = clientFirst ? s : c
            check(t.update(segment([.fin, .ack], seq: a.next, ack: a.received,
                                   window: a.rawWindow, key: key, reply: !clientFirst),
                           isReply: !clientFirst))
            a.next &+= 1
            b.received = a.next
            check(t.update(segment(.ack, seq: b.next, ack: b.received, window: b.rawWindow,
                                   key: key, reply: clientFirst), isReply: clientFirst))
            check(t.update(segment([.fin, .ack], seq: b.next, ack: b.received,
                                   window: b.rawWindow, key: key, reply: clientFirst),
                           isReply: clientFirst))
            b.next &+= 1
            a.received = b.next
            check(t.update(segment(.ack, seq: a.next, ack: a.received, window: a.rawWindow,
                                   key: key, reply: !clientFirst), isReply: !clientFirst))
        default:
            check(t.update(segment([.fin, .ack], seq: c.next, ack: c.received,
                                   window: c.rawWindow, key: key), isReply: false))
            check(t.update(segment([.fin, .ack], seq: s.next, ack: s.received,
                                   window: s.rawWindow, key: key, reply: true), isReply: true))
            c.next &+= 1
            s.next &+= 1
            check(t.update(segment(.ack, seq: c.next, ack: s.next, window: c.rawWindow,
                                   key: key), isReply: false))
            check(t.update(segment(.ack, seq: s.next, ack: c.next, window: s.rawWindow,
                                   key: key, reply: true), isReply: true))
        }
        if t.timeoutClass != .closed || t.dumpStateName != "TIME_WAIT" { bad += 1 }
        return (packets, bad)
    }
}
