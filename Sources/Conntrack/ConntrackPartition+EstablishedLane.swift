import CPrefetch
import PacketParsing

/// What `trackEstablishedSegment` did with a packet: finished it (`state` not empty: a valid
/// packet of an established TCP connection without an ALG), or left it for the general steps,
/// with or without its precheck done (`prechecked`).
public struct EstablishedStep {
    /// The packet's ct_state, or empty when the general steps must take the packet.
    public var state: CTState
    /// For a packet left to the general steps: whether `precheck` ran for it already (then
    /// `precheckAndLookup` must be called with `prechecked: true`).
    public var prechecked: Bool
    public var connectionID: UInt64
    public var masterID: UInt64

    @inline(__always)
    static func general(prechecked: Bool) -> EstablishedStep {
        EstablishedStep(state: [], prechecked: prechecked, connectionID: Connection.noID, masterID: Connection.noID)
    }
}

extension ConntrackPartition {
    /// The established lane: the packet most traffic is made of, a TCP segment with ACK and
    /// without SYN, FIN or RST on a live connection whose peers are both established and that
    /// has no ALG, in one step: precheck, look-up, `TCPTracker.trackEstablished`, the timer.
    /// The same result as `precheckAndLookup` then `existing`, without building a `CTVerdict`
    /// (no mark or label to apply: the caller's action has none).
    ///
    /// Anything else is left untouched for the general steps: before the precheck (not a plain
    /// TCP segment, a fragment, a bad checksum: the precheck counts it), or after it (no live
    /// entry, another state, an ALG, a segment the tracker refuses: nothing was changed, and
    /// the general look-up finds the same). The caller counts the state (`count(state:)`).
    public func trackEstablishedSegment(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, hash: UInt64,
                                        time: UInt64) -> EstablishedStep {
        guard packet.key.proto == IPProtocol.tcp, packet.fragment == .none,
              packet.tcpFlags.rawValue & TCPTracker.establishedPathMask == TCPFlags.ack.rawValue
        else { return .general(prechecked: false) }
        // The probe's first index line, on its way while the checksum sums: where the table
        // does not fit in L2 (the anchor trace's does not) the look-up waited for it (+4%).
        ct_prefetch(index.home(hash))
        if config.checksums != .off, !ChecksumVerifier.verifyTCP(packet, frame: frame) {
            return .general(prechecked: false)
        }
        if time > now { now = time }
        sweep(steps: config.sweepStepsPerPacket)
        guard let (entry, isReply) = find(packet.key, hash: hash) else { return .general(prechecked: true) }
        let connection = store.entries + entry
        guard connection.pointee.expiration > time, connection.pointee.alg == .none else {
            return .general(prechecked: true)
        }
        guard connection.pointee.tcp.origin.state == .established, connection.pointee.tcp.reply.state == .established,
              connection.pointee.tcp.trackEstablished(packet, isReply: isReply)
        else { return .general(prechecked: true) }  // a refused segment changed nothing
        connection.pointee.expiration = time &+ establishedTimeout
        if connection.pointee.timeoutClass != .tcpEstablished { store.classChanged(entry, to: .tcpEstablished) }
        var state: CTState = [.tracked, .established]
        if isReply { state.insert(.reply) }
        let masterID = connection.pointee.masterID
        if masterID != Connection.noID { state.insert(.related) }
        return EstablishedStep(state: state, prechecked: true, connectionID: connection.pointee.id, masterID: masterID)
    }

    /// Counts a valid packet's state that `trackEstablishedSegment` finished (`count` for a
    /// verdict without an invalid reason).
    @inlinable @inline(__always)
    public func count(state: CTState) {
        stateCounts.increment(Int(state.rawValue))
    }
}
