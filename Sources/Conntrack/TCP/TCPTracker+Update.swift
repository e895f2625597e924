import PacketParsing

extension TCPPeers {
    /// Updates the peers with a packet of an existing connection. `isReply` is true for the
    /// reply direction (the packet was sent by the peer that did not send the first packet).
    /// `refreshed` says whether OVS restarts the expiry timer for it; only then is `timeout`
    /// set, to the class the peers' states now call for.
    @inlinable @inline(__always)
    public mutating func update(_ packet: ParsedPacket, isReply: Bool, timeout: inout TCPTimeoutClass,
                                refreshed: inout Bool) -> TCPUpdateResult {
        refreshed = false
        if TCPFlagRules.isInvalid(packet.tcpFlags) { return .invalid(.invalidFlags) }
        if isReply {
            return TCPTracker.track(packet, sender: &reply, receiver: &origin, timeout: &timeout, refreshed: &refreshed)
        } else {
            return TCPTracker.track(packet, sender: &origin, receiver: &reply, timeout: &timeout, refreshed: &refreshed)
        }
    }
}

extension TCPPeers {
    /// `TCPTracker.trackEstablished` for a segment of this connection in its direction: true
    /// when accepted (the windows moved); false when refused (nothing changed).
    @inline(always)
    mutating func trackEstablished(_ packet: ParsedPacket, isReply: Bool) -> Bool {
        var timeout = TCPTimeoutClass.established, refreshed = false
        let result = isReply
            ? TCPTracker.trackEstablished(packet, sender: &reply, receiver: &origin, timeout: &timeout, refreshed: &refreshed)
            : TCPTracker.trackEstablished(packet, sender: &origin, receiver: &reply, timeout: &timeout, refreshed: &refreshed)
        if case .valid = result { return true }
        return false
    }
}

extension TCPPeers {
    /// `TCPTracker.trackAfterSYNs` for a segment of this connection in its direction, when
    /// `TCPTracker.isAfterSYNs` admits it: the timeout class when accepted; nil when not
    /// admitted or refused (nothing changed). Forced inline (`always`): with `__always` it stayed
    /// a call from `trackStateChange`, with the 96-byte packet copied for it.
    @inline(always)
    mutating func trackAfterSYNs(_ packet: ParsedPacket, isReply: Bool) -> TCPTimeoutClass? {
        if isReply {
            guard TCPTracker.isAfterSYNs(packet.tcpFlags, sender: reply.state, receiver: origin.state) else { return nil }
            return TCPTracker.trackAfterSYNs(packet, sender: &reply, receiver: &origin)
        }
        guard TCPTracker.isAfterSYNs(packet.tcpFlags, sender: origin.state, receiver: reply.state) else { return nil }
        return TCPTracker.trackAfterSYNs(packet, sender: &origin, receiver: &reply)
    }
}

extension TCPTracker {
    /// Updates the state with a packet of an existing connection. `isReply` is true for the reply
    /// direction (the packet was sent by the peer that did not send the first packet).
    @inlinable
    public mutating func update(_ packet: ParsedPacket, isReply: Bool) -> TCPUpdateResult {
        peers.update(packet, isReply: isReply, timeout: &currentTimeout, refreshed: &refreshed)
    }

    /// OVS `tcp_conn_update` for a packet from `src` to `dst` whose flags passed
    /// `TCPFlagRules.isInvalid`. Sets `timeout` and `refreshed` on the in-window path only.
    @inlinable
    static func track(
        _ packet: ParsedPacket, sender src: inout TCPPeer, receiver dst: inout TCPPeer,
        timeout: inout TCPTimeoutClass, refreshed: inout Bool
    ) -> TCPUpdateResult {
        if packet.tcpFlags.rawValue & TCPTracker.establishedPathMask == TCPFlags.ack.rawValue
            && src.state == .established && dst.state == .established {
            return trackEstablished(packet, sender: &src, receiver: &dst, timeout: &timeout, refreshed: &refreshed)
        }
        return trackAnyState(packet, sender: &src, receiver: &dst, timeout: &timeout, refreshed: &refreshed)
    }

    /// `track` for a packet in any state: OVS `tcp_conn_update` step by step.
    @inlinable
    static func trackAnyState(
        _ packet: ParsedPacket, sender src: inout TCPPeer, receiver dst: inout TCPPeer,
        timeout: inout TCPTimeoutClass, refreshed: inout Bool
    ) -> TCPUpdateResult {
        let flags = packet.tcpFlags
        let syn = flags.contains(.syn)
        let hasAck = flags.contains(.ack)
        let rst = flags.contains(.rst)
        let fin = flags.contains(.fin)

        // A fresh SYN on a connection both sides have closed starts a new connection.
        if syn && !hasAck && src.state >= .finWait2 && dst.state >= .finWait2 {
            src.state = .closed
            dst.state = .closed
            return .reopen
        }

        // SYN windows are never scaled.
        var (senderShift, receiverShift) = syn ? (sender: 0, receiver: 0) : windowShifts(src, dst)

        var window = UInt32(packet.tcpWindow)
        let originalSeq = packet.tcpSeq
        var seq = originalSeq
        var ack = packet.tcpAck
        // Wrapping: sequence space is modulo 2^32; SYN and FIN each occupy one sequence number.
        var end = seq &+ packet.tcpSegmentPayloadLength &+ (syn ? 1 : 0) &+ (fin ? 1 : 0)
        var checkAckSkew = true

        if src.state < .synSent {
            checkAckSkew = learnFirstSegment(packet, syn: syn, seq: seq, end: end, window: &window,
                                             senderShift: &senderShift, receiverShift: &receiverShift,
                                             sender: &src, receiver: &dst)
        }

        if !hasAck {
            ack = dst.sequenceEnd  // no ACK to check: make it pass the skew check
        } else if ack == 0 && rst {
            ack = dst.sequenceEnd  // stacks that send RST|ACK with a zero ACK
        }

        if seq == end {
            // No data, SYN or FIN: only the sequence position matters, not its extent.
            seq = src.sequenceEnd
            end = seq
        }

        // Wrapping: the signed distance between what the receiver sent and what is acknowledged.
        let ackSkew = checkAckSkew ? Int64(Int32(bitPattern: dst.sequenceEnd &- ack)) : 0
        // Wrapping: a RST may be one off the expected number, in sequence space.
        let resetInSequence = originalSeq == src.sequenceEnd || originalSeq == src.sequenceEnd &+ 1
            || originalSeq &+ 1 == src.sequenceEnd
        let failure = windowRefusal(seq: seq, end: end, ackSkew: ackSkew, senderShift: senderShift,
                                    receiverShift: receiverShift, sender: src, receiver: dst)
            ?? (rst && !resetInSequence ? .resetSequenceMismatch : nil)

        guard let failure else {
            slideWindows(window: window, end: end, ack: ack, senderShift: senderShift,
                         src: &src, dst: &dst)
            if syn && src.state < .synSent { src.state = .synSent }
            if fin && src.state < .closing { src.state = .closing }
            if hasAck {
                if dst.state == .synSent {
                    dst.state = .established
                } else if dst.state == .closing {
                    dst.state = .finWait2
                }
            }
            if rst {
                src.state = .timeWait
                dst.state = .timeWait
            }
            timeout = timeoutClass(src.state, dst.state)
            refreshed = true
            return .valid
        }

        // Loose path: shotgunned SYNs before the peer answers, a connection picked up after
        // establishment, stragglers after close. Within MAXACKWINDOW either way; the timer stays.
        if dst.state < .synSent || dst.state >= .finWait2 || src.state >= .finWait2,
           // Wrapping: both bounds are positions in sequence space.
           TCPSequence.atOrAfter(src.sequenceLimit &+ TCPSequence.maxAckWindow, end),
           TCPSequence.atOrAfter(seq, src.sequenceEnd &- TCPSequence.maxAckWindow)
        {
            slideWindows(window: window, end: end, ack: ack, senderShift: senderShift,
                         src: &src, dst: &dst)
            if fin && src.state < .closing { src.state = .closing }
            if rst {
                src.state = .timeWait
                dst.state = .timeWait
            }
            return .valid
        }
        return .invalid(failure)
    }

    /// The first segment from a peer (one below SYN_SENT; `trackAnyState`, `trackAnswer`):
    /// its scale learnt from a SYN when the receiver offered one (the shifts and `window` then
    /// as the checks read them), its first sequence number, limit and window. Returns whether
    /// the ACK skew is still to be checked: not for a new or picked-up connection, as in OVS.
    @inlinable @inline(__always)
    static func learnFirstSegment(_ packet: ParsedPacket, syn: Bool, seq: UInt32, end: UInt32, window: inout UInt32,
                                  senderShift: inout UInt32, receiverShift: inout UInt32,
                                  sender src: inout TCPPeer, receiver dst: inout TCPPeer) -> Bool {
        if syn && dst.scale & TCPScale.offered != 0 {
            src.scale = TCPScale.fromOption(packet.tcpWindowScale)
            if src.scale & TCPScale.offered != 0 {
                senderShift = src.shift
                window = TCPScale.unscale(window, by: senderShift)
                receiverShift = dst.shift
            } else {
                // Only one side offered scaling: undo it on the other side's window.
                // Truncating as OVS's 16-bit max_win does.
                dst.maxWindow = UInt16(truncatingIfNeeded: UInt32(dst.maxWindow) << dst.shift)
                dst.scale = 0
            }
        }
        src.sequenceEnd = seq
        src.state = .synSent
        var checkAckSkew = true
        // Wrapping: a limit in sequence space; the added window is below 2^30.
        let limit = end &+ max(1, UInt32(dst.maxWindow) << receiverShift)
        if src.sequenceLimit == 1 || TCPSequence.atOrAfter(limit, src.sequenceLimit) {
            src.sequenceLimit = limit
            checkAckSkew = false
        }
        if window > UInt32(src.maxWindow) {
            src.maxWindow = UInt16(truncatingIfNeeded: window)  // window ≤ 0xFFFF
        }
        return checkAckSkew
    }

    /// SYN, FIN, RST and ACK: a packet whose flags among these are ACK alone takes
    /// `trackEstablished` when both peers are established.
    @inlinable
    static var establishedPathMask: UInt8 {
        TCPFlags.syn.rawValue | TCPFlags.fin.rawValue | TCPFlags.rst.rawValue | TCPFlags.ack.rawValue
    }

    /// `track` for the packet most connections carry: ACK (with or without data) and no SYN,
    /// FIN or RST, both peers established. What `trackAnyState` does for it (a test compares
    /// the two on random windows and segments), without the branches that
    /// cannot apply: no reopen, no first packet to learn from, no state to move, no loose path
    /// (neither peer is opening or closed); the timeout stays `established`.
    @inlinable @inline(always)
    static func trackEstablished(
        _ packet: ParsedPacket, sender src: inout TCPPeer, receiver dst: inout TCPPeer,
        timeout: inout TCPTimeoutClass, refreshed: inout Bool
    ) -> TCPUpdateResult {
        let result = slideInWindow(packet, fin: false, sender: &src, receiver: &dst)
        if case .valid = result {
            timeout = .established
            refreshed = true
        }
        return result
    }

    /// The window checks of a segment that is not a SYN and whose sender is established or later
    /// (`trackAnyState`'s, with the ACK skew checked), then, if it passes, the windows slid:
    /// `.valid`, or `.invalid` with the reason and nothing changed. `fin`: whether the segment
    /// carries a FIN (one sequence number).
    @inlinable @inline(always)
    static func slideInWindow(_ packet: ParsedPacket, fin: Bool, sender src: inout TCPPeer,
                              receiver dst: inout TCPPeer) -> TCPUpdateResult {
        let (senderShift, receiverShift) = windowShifts(src, dst)
        let window = UInt32(packet.tcpWindow)
        let ack = packet.tcpAck
        var seq = packet.tcpSeq
        // Wrapping: sequence space is modulo 2^32; a FIN occupies one sequence number.
        var end = seq &+ packet.tcpSegmentPayloadLength &+ (fin ? 1 : 0)
        if seq == end {
            seq = src.sequenceEnd
            end = seq
        }
        // Wrapping: as in `trackAnyState`.
        let ackSkew = Int64(Int32(bitPattern: dst.sequenceEnd &- ack))
        if let refusal = windowRefusal(seq: seq, end: end, ackSkew: ackSkew, senderShift: senderShift,
                                       receiverShift: receiverShift, sender: src, receiver: dst) {
            return .invalid(refusal)
        }
        slideWindows(window: window, end: end, ack: ack, senderShift: senderShift, src: &src, dst: &dst)
        return .valid
    }

    /// `trackAnyState`'s window checks of a segment, in its order (the reset's aside): the
    /// reason of the first that fails, or nil. `ackSkew` is 0 where the skew is not checked.
    @inlinable @inline(__always)
    static func windowRefusal(seq: UInt32, end: UInt32, ackSkew: Int64, senderShift: UInt32, receiverShift: UInt32,
                              sender src: TCPPeer, receiver dst: TCPPeer) -> TCPInvalidReason? {
        let maxAckWindow = Int64(TCPSequence.maxAckWindow)
        // Wrapping: the lower edge in sequence space; the window term is below 2^30.
        let lowestRetransmit = src.sequenceEnd &- (UInt32(dst.maxWindow) << receiverShift)
        if !TCPSequence.atOrAfter(src.sequenceLimit, end) { return .seqAboveWindow }
        if !TCPSequence.atOrAfter(seq, lowestRetransmit) { return .seqBelowWindow }
        if ackSkew < -maxAckWindow { return .ackAheadOfData }
        if ackSkew > maxAckWindow << senderShift { return .ackBehindWindow }
        return nil
    }

    /// Whether `trackAfterSYNs` may take a segment: ACK or FIN|ACK (PSH, URG, ECE, CWR
    /// allowed; no SYN, no RST) from a sender that is established or later to a receiver that
    /// has sent its SYN (the handshake's last ACK, data and ACKs, closes).
    @inlinable @inline(__always)
    static func isAfterSYNs(_ flags: TCPFlags, sender: TCPPeerState, receiver: TCPPeerState) -> Bool {
        let core = flags.rawValue & establishedPathMask
        return (core == TCPFlags.ack.rawValue || core == TCPFlags.ack.rawValue | TCPFlags.fin.rawValue)
            && sender >= .established && receiver >= .synSent
    }

    /// `track` for the segments after both SYNs: what `trackAnyState` does for a segment that
    /// `isAfterSYNs` admits and the window checks accept (the windows slide, a FIN moves its
    /// sender to closing, an ACK moves a receiver in SYN_SENT to established and one in closing
    /// to FIN_WAIT_2, the timeout class follows the states; the timer restarts). Nil when the
    /// checks refuse it, with nothing changed: `trackAnyState` then decides (its loose path for
    /// stragglers after a close, or the reason it is invalid). Without the branches that cannot
    /// apply: no reopen, no first packet to learn a scale from, no SYN or RST (a test compares
    /// the two on random peers and segments).
    @inlinable @inline(always)
    static func trackAfterSYNs(_ packet: ParsedPacket, sender src: inout TCPPeer,
                               receiver dst: inout TCPPeer) -> TCPTimeoutClass? {
        let fin = packet.tcpFlags.rawValue & TCPFlags.fin.rawValue != 0
        guard case .valid = slideInWindow(packet, fin: fin, sender: &src, receiver: &dst) else { return nil }
        if fin && src.state < .closing { src.state = .closing }
        if dst.state == .synSent {
            dst.state = .established
        } else if dst.state == .closing {
            dst.state = .finWait2
        }
        return timeoutClass(src.state, dst.state)
    }

    /// The window shifts of a packet that is not a SYN: the offered ones once both SYNs offered
    /// the option, the largest for a connection picked up in the middle, else none.
    @inlinable @inline(__always)
    static func windowShifts(_ src: TCPPeer, _ dst: TCPPeer) -> (sender: UInt32, receiver: UInt32) {
        if src.scale & TCPScale.offered != 0 && dst.scale & TCPScale.offered != 0 { return (src.shift, dst.shift) }
        if src.scale & TCPScale.unknown != 0 && dst.scale & TCPScale.unknown != 0 {
            return (UInt32(TCPScale.maxShift), UInt32(TCPScale.maxShift))
        }
        return (0, 0)
    }

    /// The bookkeeping of an accepted packet: the sender's largest window and highest sequence,
    /// and how far the receiver may now send.
    @inlinable
    static func slideWindows(
        window: UInt32, end: UInt32, ack: UInt32, senderShift: UInt32,
        src: inout TCPPeer, dst: inout TCPPeer
    ) {
        if UInt32(src.maxWindow) < window {
            src.maxWindow = UInt16(truncatingIfNeeded: window)  // window ≤ 0xFFFF
        }
        if TCPSequence.after(end, src.sequenceEnd) {
            src.sequenceEnd = end
        }
        let scaled = window << senderShift  // ≤ 0xFFFF << 14, below 2^30
        // Wrapping: ACK plus window is a position in sequence space.
        if TCPSequence.atOrAfter(ack &+ scaled, dst.sequenceLimit) {
            dst.sequenceLimit = ack &+ max(scaled, 1)
        }
    }
}
