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
