/// What the tracker knows about one peer (one sender) of a TCP connection: OVS's `struct tcp_peer`
/// (pf's `pf_state_peer`; Linux calls the first two `td_end` and `td_maxend`). 12 bytes.
@usableFromInline
struct TCPPeer: Sendable, Equatable {
    /// Highest sequence number this peer has sent: one past its data/SYN/FIN once a packet of it
    /// went through `update`; the SYN's own sequence number after `start`, until the peer sends
    /// data (OVS `seqlo`, Linux `td_end`).
    @usableFromInline var sequenceEnd: UInt32
    /// Highest sequence number the other peer's ACK and window allow this peer to send
    /// (`seqhi`, `td_maxend`). 1 means "never set" (OVS's marker).
    @usableFromInline var sequenceLimit: UInt32
    /// Largest window this peer advertised, before scaling (`max_win`, `td_maxwin`).
    @usableFromInline var maxWindow: UInt16
    /// Window-scale option bookkeeping (see `TCPScale`).
    @usableFromInline var scale: UInt8
    @usableFromInline var state: TCPPeerState

    @inlinable
    init() {
        sequenceEnd = 0
        sequenceLimit = 0
        maxWindow = 0
        scale = 0
        state = .closed
    }

    /// The window shift to apply to this peer's windows, when `scale` records an offered option.
    @inlinable
    var shift: UInt32 { UInt32(scale & TCPScale.shiftMask) }
}
