/// The timeout classes of a TCP connection, as Open vSwitch's `CT_TM_TCP_*`. OVS chooses one after
/// every in-window packet from the two peers' states (see `TCPTracker.timeoutClass`).
public enum TCPTimeoutClass: UInt8, CaseIterable, Sendable {
    /// `CT_TM_TCP_FIRST_PACKET`: the connection has seen only its first packet.
    case firstPacket = 0
    /// `CT_TM_TCP_OPENING`: at least one peer is not yet established.
    case opening
    /// `CT_TM_TCP_ESTABLISHED`: both peers established.
    case established
    /// `CT_TM_TCP_CLOSING`: one peer has sent a FIN, the other has not.
    case closing
    /// `CT_TM_TCP_FIN_WAIT`: both peers have sent a FIN, not both acknowledged.
    case finWait
    /// `CT_TM_TCP_CLOSED`: both FINs acknowledged, or reset.
    case closed

    /// The OVS timeout-policy attribute this class reads (`tm_to_ct_dpif_tp`), e.g. "tcp_syn_sent".
    public var policyName: String {
        switch self {
        case .firstPacket: "tcp_syn_sent"
        case .opening: "tcp_syn_recv"
        case .established: "tcp_established"
        case .closing: "tcp_fin_wait"
        case .finWait: "tcp_time_wait"
        case .closed: "tcp_close"
        }
    }
}

/// Timeout per `TCPTimeoutClass`. The defaults are OVS's userspace defaults
/// (`ct_dpif_netdev_tp_def` in lib/conntrack-tp.c): 30 s, 30 s, 24 h, 15 min, 45 s, 30 s.
/// A plain value with no storage outside itself; the subscript reads nanoseconds.
public struct TCPTimeouts: Sendable, Equatable {
    /// Nanoseconds per class, in `TCPTimeoutClass` order.
    @usableFromInline var firstPacketNanos: UInt64
    @usableFromInline var openingNanos: UInt64
    @usableFromInline var establishedNanos: UInt64
    @usableFromInline var closingNanos: UInt64
    @usableFromInline var finWaitNanos: UInt64
    @usableFromInline var closedNanos: UInt64

    @usableFromInline static let nanosPerSecond: UInt64 = 1_000_000_000

    /// Timeouts in seconds; every argument defaults to OVS's value.
    public init(
        firstPacketSeconds: UInt64 = 30, openingSeconds: UInt64 = 30,
        establishedSeconds: UInt64 = 24 * 60 * 60, closingSeconds: UInt64 = 15 * 60,
        finWaitSeconds: UInt64 = 45, closedSeconds: UInt64 = 30
    ) {
        // Seconds beyond UInt64.max / 1e9 (about 584 years) saturate instead of trapping.
        func nanos(_ s: UInt64) -> UInt64 {
            let (v, o) = s.multipliedReportingOverflow(by: Self.nanosPerSecond)
            return o ? .max : v
        }
        firstPacketNanos = nanos(firstPacketSeconds)
        openingNanos = nanos(openingSeconds)
        establishedNanos = nanos(establishedSeconds)
        closingNanos = nanos(closingSeconds)
        finWaitNanos = nanos(finWaitSeconds)
        closedNanos = nanos(closedSeconds)
    }

    /// OVS's defaults.
    public static let ovsDefaults = TCPTimeouts()

    /// The timeout of `timeoutClass`, in nanoseconds.
    @inlinable
    public subscript(_ timeoutClass: TCPTimeoutClass) -> UInt64 {
        get {
            switch timeoutClass {
            case .firstPacket: firstPacketNanos
            case .opening: openingNanos
            case .established: establishedNanos
            case .closing: closingNanos
            case .finWait: finWaitNanos
            case .closed: closedNanos
            }
        }
        set {
            switch timeoutClass {
            case .firstPacket: firstPacketNanos = newValue
            case .opening: openingNanos = newValue
            case .established: establishedNanos = newValue
            case .closing: closingNanos = newValue
            case .finWait: finWaitNanos = newValue
            case .closed: closedNanos = newValue
            }
        }
    }

    /// The timeout of `timeoutClass` in whole seconds.
    public func seconds(_ timeoutClass: TCPTimeoutClass) -> UInt64 {
        self[timeoutClass] / Self.nanosPerSecond
    }
}
