import CPrefetch
import PacketParsing

/// What `trackTCPSegment` did with a packet: finished it (`state` not empty: a TCP
/// segment of a live connection without an ALG, valid or +inv), or left it for the general
/// steps, with or without its precheck done (`prechecked`), and with or without a stored
/// entry for its key (`missed`).
public struct TCPLaneStep {
    /// The packet's ct_state, or empty when the general steps must take the packet. Contains
    /// `.invalid` for a segment the TCP tracker refused (the lane counted its reason).
    public var state: CTState
    /// For a packet left to the general steps: whether `precheck` ran for it already (then
    /// `precheckAndLookup` must be called with `prechecked: true`).
    public var prechecked: Bool
    /// For a packet left to the general steps: the table holds no entry for its key (none was
    /// found, or the lane removed the one a reopening SYN closed). `lookupExisting` would miss
    /// too and change nothing, so the caller may go straight to `commitNew` (with the same
    /// hash). Implies `prechecked`.
    public var missed: Bool
    public var connectionID: UInt64
    public var masterID: UInt64

    @inline(__always)
    static func general(prechecked: Bool, missed: Bool = false) -> TCPLaneStep {
        TCPLaneStep(state: CTState(rawValue: 0), prechecked: prechecked, missed: missed, connectionID: Connection.noID,
                    masterID: Connection.noID)
    }
}

extension ConntrackPartition {
    /// The TCP lane: a TCP segment of a live connection without an ALG, in one step: precheck,
    /// look-up, the TCP tracker, the timer. The same result as `precheckAndLookup` then
    /// `existing`, without building a `CTVerdict` (no mark or label to apply: the caller's
    /// action has none).
    ///
    /// Most traffic takes its established path: ACK without SYN, FIN or RST, both peers
    /// established, `TCPTracker.trackEstablished` inline. A segment that changes the state
    /// (handshake, close, reset, a retransmitted SYN) or that the tracker refuses (+inv) goes
    /// through the whole tracker out of line (`trackStateChange`).
    ///
    /// Anything else is left for the general steps: before the precheck (not TCP, a fragment,
    /// a bad checksum: the precheck counts it), or after it (no live entry, an ALG, a SYN that
    /// reopens a closed connection, whose entry is removed as `lookupExisting` removes it:
    /// the general look-up then misses, as it would have). Where the table then holds no entry
    /// for the key, `missed` lets the caller skip that look-up. The caller counts the state
    /// (`count(state:)`).
    public func trackTCPSegment(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, hash: UInt64,
                                time: UInt64) -> TCPLaneStep {
        withUnsafePointer(to: packet) { trackTCPSegment($0, frame: frame, hash: hash, time: time) }
    }

    /// `trackTCPSegment` for a packet read in place (the replay loops' look-ahead memory): a
    /// `ParsedPacket` passed by value is copied into the caller's frame first (96 bytes).
    public func trackTCPSegment(_ packet: UnsafePointer<ParsedPacket>, frame: UnsafeRawBufferPointer, hash: UInt64,
                                time: UInt64) -> TCPLaneStep {
        trackTCPSegment(packet, frame: frame, hash: hash, time: time, guessed: nil)
    }

    /// `trackTCPSegment` with a guess of the packet's entry: the entry a look-ahead read from
    /// the index for it some packets earlier (`prefetchEntry`, which prefetched it), or -1.
    /// Where the guess is live and holds the packet's key, the lane takes it without probing
    /// the index (`confirm`); otherwise it probes. A function of its own (the lane's steps are
    /// inlined into each): with the guess's check in the one function, the compiler spilled more
    /// of the lane's values and a walk without guesses (the anchor's) paid 17 instructions a
    /// packet; with both copies in one function, it inlined less and paid 36.
    public func trackTCPSegment(_ packet: UnsafePointer<ParsedPacket>, frame: UnsafeRawBufferPointer, hash: UInt64,
                                time: UInt64, entryGuess: Int) -> TCPLaneStep {
        trackTCPSegment(packet, frame: frame, hash: hash, time: time, guessed: entryGuess)
    }

    /// The lane's steps, with a guess (`trackTCPSegment(_:frame:hash:time:entryGuess:)`) or
    /// none, each compiled with `guess` nil or not (`@inline(__always)` may leave it a call that
    /// tests the optional at run time).
    @inline(always)
    func trackTCPSegment(_ packet: UnsafePointer<ParsedPacket>, frame: UnsafeRawBufferPointer, hash: UInt64,
                         time: UInt64, guessed guess: Int?) -> TCPLaneStep {
        // Fields are read through the pointer, one at a time: a `let` of the whole packet was
        // copied (96 bytes) on entry, for the calls that take it by value.
        guard packet.pointee.key.proto == IPProtocol.tcp, packet.pointee.fragment == .none else {
            return .general(prechecked: false)
        }
        // The probe's first index line, and the entry its home slot names, on their way while
        // the checksum sums: where the table does not fit in L2 (the anchor trace's does not)
        // the look-up waited for them (+4% and +2%). The entry's address waits for the slot's
        // load, but nothing else does: no branch on the slot (an empty one prefetches entry 0).
        // The entry's second line only for a key with non-zero high halves (`Connection`).
        // A guess was prefetched by the look-ahead, with its slot.
        if guess == nil {
            ct_prefetch(index.home(hash))
            let guess = UnsafeRawPointer(store.entries + index.homeEntryGuess(hash))
            ct_prefetch(guess)
            if packet.pointee.key.src.high | packet.pointee.key.dst.high != 0 { ct_prefetch(guess + 64) }
        }
        if config.checksums != .off, !ChecksumVerifier.verifyTCP(packet, frame: frame) {
            return .general(prechecked: false)
        }
        if time > now { now = time }
        sweep(steps: config.sweepStepsPerPacket)
        guard let (entry, isReply) = (guess.flatMap { confirm($0, key: packet.pointee.key) })
                ?? find(packet.pointee.key, hash: hash)
        else {
            return .general(prechecked: true, missed: true)
        }
        let connection = store.entries + entry
        guard connection.pointee.expiration > time, connection.pointee.alg == .none else {
            return .general(prechecked: true)
        }
        guard packet.pointee.tcpFlags.rawValue & TCPTracker.establishedPathMask == TCPFlags.ack.rawValue,
              connection.pointee.tcp.origin.state == .established, connection.pointee.tcp.reply.state == .established,
              connection.pointee.tcp.trackEstablished(packet.pointee, isReply: isReply)
        else {
            // Refused by the established path, which changed nothing: the whole tracker.
            return trackStateChange(entry, packet, isReply: isReply, hash: hash, time: time)
        }
        connection.pointee.expiration = time &+ establishedTimeout
        if connection.pointee.timeoutClass != .tcpEstablished { classChanged(entry, to: .tcpEstablished) }
        let masterID = Connection.masterID(at: connection)  // the second line, read only for a related connection
        return TCPLaneStep(state: Self.existingState(isReply: isReply, masterID: masterID),
                           prechecked: true, missed: false, connectionID: connection.pointee.id, masterID: masterID)
    }

    /// The TCP lane's segments that the established path does not take: `update` (the whole
    /// tracker, timer and class), then the state `existing` gives, +inv with the reason
    /// counted, or, for a reopening SYN, the entry removed and the packet left to the general
    /// steps (which commit it anew).
    ///
    /// Two kinds of segment take the tracker's steps for them alone first, with the timer and
    /// class set as `update` sets them: the handshake's last ACK, a close or an ACK around one,
    /// in the window (`trackAfterSYNs`: ~90 instructions less than `update`'s way through
    /// `trackAnyState`), and the handshake's answer, SYN|ACK (`trackAnswer`: ~100 less).
    @inline(never)
    func trackStateChange(_ entry: Int, _ packet: UnsafePointer<ParsedPacket>, isReply: Bool, hash: UInt64,
                          time: UInt64) -> TCPLaneStep {
        let connection = store.entries + entry
        if let timeout = connection.pointee.tcp.trackAfterSYNs(packet.pointee, isReply: isReply) {
            return restarted(entry, timeout: timeout, isReply: isReply, time: time)
        }
        var timeout = TCPTimeoutClass.firstPacket
        let result: UpdateResult
        switch connection.pointee.tcp.trackAnswer(packet.pointee, isReply: isReply, timeout: &timeout) {
        case .valid?:
            return restarted(entry, timeout: timeout, isReply: isReply, time: time)
        case .invalid(let reason)?:
            tcpInvalidCounts.increment(Int(reason.rawValue))  // as `update` counts it
            result = .invalid(.tcpInvalidUpdate)
        case .reopen?:
            preconditionFailure("trackStateChange: trackAnswer never reopens")
        case nil:
            result = update(entry, packet.pointee, isReply: isReply, time: time)
        }
        switch result {
        case .valid:
            let masterID = Connection.masterID(at: connection)
            return TCPLaneStep(state: Self.existingState(isReply: isReply, masterID: masterID),
                               prechecked: true, missed: false, connectionID: connection.pointee.id, masterID: masterID)
        case .invalid(let reason):
            invalidCounts.increment(Int(reason.rawValue))
            return TCPLaneStep(state: Self.invalidState, prechecked: true, missed: false,
                               connectionID: connection.pointee.id, masterID: Connection.masterID(at: connection))
        case .reopen:
            remove(entry, hash: hash, deathTime: time)
            counts.replaced &+= 1
            return .general(prechecked: true, missed: true)
        }
    }

    /// A segment the tracker accepted with its timer restarted: the timer and class as `update`
    /// sets them, then the state `existing` gives.
    @inline(__always)
    func restarted(_ entry: Int, timeout: TCPTimeoutClass, isReply: Bool, time: UInt64) -> TCPLaneStep {
        let connection = store.entries + entry
        let newClass = TimeoutClass(timeout)
        connection.pointee.expiration = time &+ timeoutNanoseconds(newClass)  // ns of trace time: no wrap
        if newClass != connection.pointee.timeoutClass { classChanged(entry, to: newClass) }
        let masterID = Connection.masterID(at: connection)
        return TCPLaneStep(state: Self.existingState(isReply: isReply, masterID: masterID),
                           prechecked: true, missed: false, connectionID: connection.pointee.id, masterID: masterID)
    }

    /// A new TCP connection committed in one step, for a prechecked segment the table holds no
    /// entry for (`TCPLaneStep.missed`) and that its caller commits at once, without an ALG,
    /// with no expectation it could match and with no mark or label to set: `commitNew`'s steps
    /// for that case alone (the general way there passed the packet, an empty expectation and
    /// the verdict by value through five calls: ~450 instructions a SYN over an ACK's). Nil,
    /// with nothing changed, where `commitNew` has more to do: a first segment the tracker
    /// refuses (+inv), a zone limit, a full table, a packet that is not TCP. The caller counts
    /// the state.
    public func commitFirstSegment(_ packet: UnsafePointer<ParsedPacket>, hash: UInt64, packetIndex: UInt64,
                                   time: UInt64) -> TCPLaneStep? {
        guard packet.pointee.key.proto == IPProtocol.tcp, !hasZoneLimits, let started = TCPTracker.start(packet.pointee)
        else { return nil }
        let connection = Connection(
            key: packet.pointee.key, tcp: started.peers, timeoutClass: .tcpFirstPacket, alg: .none, otherState: .first,
            mark: 0, expiration: time &+ timeoutNanoseconds(.tcpFirstPacket), id: packetIndex,
            masterID: Connection.noID, labelHigh: 0, labelLow: 0)
        guard let entry = store.allocate(connection) else { return nil }  // full: `commitNew` refuses it
        index.insert(hash: hash, entry: entry)
        counts.committed &+= 1
        committedCounts.increment(Int(IPProtocol.tcp))
        return TCPLaneStep(state: Self.newState, prechecked: true, missed: false, connectionID: packetIndex,
                           masterID: Connection.noID)
    }

    /// +trk+new, from raw values (see `existingState`).
    @inline(__always)
    static var newState: CTState { CTState(rawValue: CTState.tracked.rawValue | CTState.new.rawValue) }

    /// +trk+inv, from raw values (see `existingState`).
    @inline(__always)
    static var invalidState: CTState { CTState(rawValue: CTState.tracked.rawValue | CTState.invalid.rawValue) }

    /// The ct_state of a valid packet of a stored connection (as `existing` gives it).
    @inline(__always)
    static func existingState(isReply: Bool, masterID: UInt64) -> CTState {
        // Raw values, not an array literal: where the optimizer gives up on a large caller (it
        // did with `trackAnswer` forced inline into `trackStateChange`), a literal became an
        // array object, allocated and released for nothing.
        var state = CTState.tracked.rawValue | CTState.established.rawValue
        if isReply { state |= CTState.reply.rawValue }
        if masterID != Connection.noID { state |= CTState.related.rawValue }
        return CTState(rawValue: state)
    }

    /// Counts the state of a packet that `trackTCPSegment` finished (`count` for its
    /// verdict: an invalid one's reason the lane counted already).
    @inlinable @inline(__always)
    public func count(state: CTState) {
        stateCounts.increment(Int(state.rawValue))
    }
}
