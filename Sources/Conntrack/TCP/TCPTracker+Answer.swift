import PacketParsing

extension TCPPeers {
    /// `TCPTracker.trackAnswer` for a segment of this connection in its direction, when
    /// `TCPTracker.isAnswer` admits it: `.valid` with `timeout` set, or `.invalid`; nil when not
    /// admitted (nothing changed).
    @inline(__always)
    mutating func trackAnswer(_ packet: ParsedPacket, isReply: Bool, timeout: inout TCPTimeoutClass) -> TCPUpdateResult? {
        if isReply {
            guard TCPTracker.isAnswer(packet.tcpFlags, sender: reply.state, receiver: origin.state) else { return nil }
            return TCPTracker.trackAnswer(packet, sender: &reply, receiver: &origin, timeout: &timeout)
        }
        guard TCPTracker.isAnswer(packet.tcpFlags, sender: origin.state, receiver: reply.state) else { return nil }
        return TCPTracker.trackAnswer(packet, sender: &origin, receiver: &reply, timeout: &timeout)
    }
}

extension TCPTracker {
    /// Whether `trackAnswer` may take a segment: the handshake's answer, SYN|ACK (PSH, URG,
    /// ECE, CWR allowed; no FIN, no RST) from a peer that has sent nothing yet to one in
    /// SYN_SENT. Such flags always pass `TCPFlagRules.isInvalid`.
    @inlinable @inline(__always)
    static func isAnswer(_ flags: TCPFlags, sender: TCPPeerState, receiver: TCPPeerState) -> Bool {
        flags.rawValue & establishedPathMask == TCPFlags.syn.rawValue | TCPFlags.ack.rawValue
            && sender < .synSent && receiver == .synSent
    }

    /// `track` for the handshake's answer (`isAnswer`): what `trackAnyState` does for it,
    /// without the branches that cannot apply (no reopen, no FIN or RST, no unscaled window, and
    /// no loose path: the receiver is in SYN_SENT and the sender becomes so). The sender's first
    /// segment: its scale (when the receiver offered one), first sequence number and window are
    /// learnt, then the window checks run; a segment they refuse leaves what was learnt, as
    /// `trackAnyState` leaves it. Accepted, the receiver is established and `timeout` set (a
    /// test compares the two on random peers and segments).
    @inlinable @inline(__always)
    static func trackAnswer(_ packet: ParsedPacket, sender src: inout TCPPeer, receiver dst: inout TCPPeer,
                            timeout: inout TCPTimeoutClass) -> TCPUpdateResult {
        // SYN windows are never scaled: the shifts stay 0 unless both offered the option.
        var senderShift: UInt32 = 0, receiverShift: UInt32 = 0
        var window = UInt32(packet.tcpWindow)
        let seq = packet.tcpSeq, ack = packet.tcpAck
        // Wrapping: sequence space is modulo 2^32; the SYN occupies one sequence number, so
        // `end` is never `seq` (the payload is below 2^32 - 1).
        let end = seq &+ packet.tcpSegmentPayloadLength &+ 1
        let checkAckSkew = learnFirstSegment(packet, syn: true, seq: seq, end: end, window: &window,
                                             senderShift: &senderShift, receiverShift: &receiverShift,
                                             sender: &src, receiver: &dst)

        // Wrapping: as in `trackAnyState`.
        let ackSkew = checkAckSkew ? Int64(Int32(bitPattern: dst.sequenceEnd &- ack)) : 0
        if let refusal = windowRefusal(seq: seq, end: end, ackSkew: ackSkew, senderShift: senderShift,
                                       receiverShift: receiverShift, sender: src, receiver: dst) {
            return .invalid(refusal)
        }
        slideWindows(window: window, end: end, ack: ack, senderShift: senderShift, src: &src, dst: &dst)
        dst.state = .established
        timeout = timeoutClass(src.state, dst.state)
        return .valid
    }
}
