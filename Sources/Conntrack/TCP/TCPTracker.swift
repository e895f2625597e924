import PacketParsing

/// The TCP state of one connection's two peers (24 bytes): what a connection entry stores.
/// `update(_:isReply:timeout:refreshed:)` judges a packet against it; the timeout class it
/// picks is kept by the entry (`Connection.timeoutClass`), not here, so that key and peers fill
/// the entry's first cache line exactly.
public struct TCPPeers: Sendable, Equatable {
    /// The peer that sent the first packet (OVS `peer[0]`).
    @usableFromInline var origin: TCPPeer
    /// The other peer (OVS `peer[1]`).
    @usableFromInline var reply: TCPPeer

    @inlinable
    init(origin: TCPPeer, reply: TCPPeer) {
        self.origin = origin
        self.reply = reply
    }

    /// The originating peer's state (OVS `state_orig`).
    @inlinable
    public var originState: TCPPeerState { origin.state }

    /// The replying peer's state (OVS `state_reply`).
    @inlinable
    public var replyState: TCPPeerState { reply.state }

    /// The window-scale shifts the peers offered (OVS `wscale_orig`, `wscale_reply`).
    public var windowScales: (origin: UInt8, reply: UInt8) {
        (origin.scale & TCPScale.shiftMask, reply.scale & TCPScale.shiftMask)
    }

    /// The connection state as `ovs-appctl dpctl/dump-conntrack` prints it in protoinfo, e.g.
    /// "ESTABLISHED": the later of the two peer states, with FIN_WAIT_2 shown as TIME_WAIT and
    /// SYN_RECV as ESTABLISHED (`coalesce_tcp_state`).
    public var dumpStateName: String {
        let later = max(origin.state, reply.state)
        switch later {
        case .finWait2: return TCPPeerState.timeWait.name
        case .synReceived: return TCPPeerState.established.name
        default: return later.name
        }
    }
}

/// TCP tracking state of one connection, both directions (the "peers"), with Open vSwitch's
/// userspace semantics (lib/conntrack-tcp.c, from OpenBSD pf): flag validation, sequence and ACK
/// window checks with window scaling, and the peer states that choose the timeout.
///
/// A plain value of at most 32 bytes (pinned by a test): the peers, the timeout class OVS last
/// chose and whether the last packet restarted the timer. A connection entry stores only the
/// peers (`TCPPeers`) and keeps the class itself. `start` creates a tracker from a connection's
/// first packet; `update` judges every later one.
public struct TCPTracker: Sendable, Equatable {
    @usableFromInline var peers: TCPPeers
    /// The timeout class OVS last set (in-window packets only); see `timeoutClass`.
    @usableFromInline var currentTimeout: TCPTimeoutClass
    /// Whether the last `update` restarted the expiry timer (see `lastUpdateRefreshedTimeout`).
    @usableFromInline var refreshed: Bool

    @inlinable
    init(origin: TCPPeer, reply: TCPPeer) {
        self.peers = TCPPeers(origin: origin, reply: reply)
        self.currentTimeout = .firstPacket
        self.refreshed = true
    }

    /// The peer that sent the first packet.
    @inlinable
    var origin: TCPPeer {
        get { peers.origin }
        set { peers.origin = newValue }
    }

    /// The other peer.
    @inlinable
    var reply: TCPPeer {
        get { peers.reply }
        set { peers.reply = newValue }
    }

    /// Tracking state for a connection whose first packet is `packet`, or nil when that packet may
    /// not create a connection (OVS `tcp_valid_new`: invalid flag combinations, SYN+ACK).
    ///
    /// A packet without SYN (a connection picked up mid-stream) is accepted as OVS does: both
    /// peers' window scales are marked unknown, so windows are later read with the largest shift.
    @inlinable
    public static func start(_ packet: ParsedPacket) -> TCPTracker? {
        let flags = packet.tcpFlags
        if refusal(for: flags) != nil { return nil }
        let syn = flags.contains(.syn)
        let fin = flags.contains(.fin)

        var src = TCPPeer()
        var dst = TCPPeer()
        src.sequenceEnd = packet.tcpSeq
        // Wrapping: sequence space is modulo 2^32; the payload length is below 2^32 - 3.
        src.sequenceLimit = packet.tcpSeq &+ packet.tcpSegmentPayloadLength &+ 1
            &+ (syn ? 1 : 0) &+ (fin ? 1 : 0)
        if syn {
            src.scale = TCPScale.fromOption(packet.tcpWindowScale)
        } else {
            src.scale = TCPScale.unknown
            dst.scale = TCPScale.unknown
        }
        var window = max(UInt32(packet.tcpWindow), 1)
        if src.shift != 0 {
            // OVS removes the offered scale from the SYN's window, as pf does.
            window = TCPScale.unscale(window, by: src.shift)
        }
        src.maxWindow = UInt16(truncatingIfNeeded: window)  // ≤ 0xFFFF: unscaling only shrinks it
        dst.sequenceLimit = 1
        dst.maxWindow = 1
        src.state = .synSent
        dst.state = .closed
        return TCPTracker(origin: src, reply: dst)
    }

    /// Why `start` refuses a first packet with these flags, or nil when it accepts it.
    @inlinable
    public static func refusal(for flags: TCPFlags) -> TCPInvalidReason? {
        if TCPFlagRules.isInvalid(flags) { return .invalidFlags }
        if flags.contains(.syn) && flags.contains(.ack) { return .synAckWithoutConnection }
        return nil
    }

    /// Which timeout applies now. OVS picks it from the peers' states after each in-window
    /// packet (`.firstPacket` until then); packets accepted on its loose path (shotgunned SYNs,
    /// pick-up, stragglers after close) leave both the class and the timer as they were.
    @inlinable
    public var timeoutClass: TCPTimeoutClass { currentTimeout }

    /// True when the last `update` (or `start`) restarted the connection's expiry timer in OVS:
    /// false after a packet accepted on the loose path, and after `.invalid` or `.reopen`.
    @inlinable
    public var lastUpdateRefreshedTimeout: Bool { refreshed }

    /// The originating peer's state (OVS `state_orig`).
    @inlinable
    public var originState: TCPPeerState { peers.originState }

    /// The replying peer's state (OVS `state_reply`).
    @inlinable
    public var replyState: TCPPeerState { peers.replyState }

    /// The window-scale shifts the peers offered (OVS `wscale_orig`, `wscale_reply`).
    public var windowScales: (origin: UInt8, reply: UInt8) { peers.windowScales }

    /// The connection state as `dpctl/dump-conntrack` prints it (see `TCPPeers.dumpStateName`).
    public var dumpStateName: String { peers.dumpStateName }

    /// The timeout class for the peers' states (the choice at the end of OVS `tcp_conn_update`).
    @inlinable @inline(__always)
    static func timeoutClass(_ a: TCPPeerState, _ b: TCPPeerState) -> TCPTimeoutClass {
        if a >= .finWait2 && b >= .finWait2 { return .closed }
        if a >= .closing && b >= .closing { return .finWait }
        if a < .established || b < .established { return .opening }
        if a >= .closing || b >= .closing { return .closing }
        return .established
    }
}
