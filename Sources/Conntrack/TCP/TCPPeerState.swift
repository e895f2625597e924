/// The tracking state of one TCP peer (one direction of a connection), numbered as Open vSwitch's
/// `CT_DPIF_TCPS_*` values so that the order comparisons OVS makes (`state >= FIN_WAIT_2`, ...) read
/// the same here.
///
/// The userspace tracker only ever moves a peer through `closed`, `synSent`, `established`,
/// `closing`, `finWait2` and `timeWait`; the other cases exist so that the numbering matches.
public enum TCPPeerState: UInt8, Sendable, Comparable, CaseIterable {
    case closed = 0
    case listen
    case synSent
    case synReceived
    case established
    case closeWait
    case finWait1
    case closing
    case lastAck
    case finWait2
    case timeWait

    @inlinable
    public static func < (a: TCPPeerState, b: TCPPeerState) -> Bool { a.rawValue < b.rawValue }

    /// The name OVS prints for this state (`ct_dpif_tcp_state_string`), e.g. "SYN_SENT".
    public var name: String {
        switch self {
        case .closed: "CLOSED"
        case .listen: "LISTEN"
        case .synSent: "SYN_SENT"
        case .synReceived: "SYN_RECV"
        case .established: "ESTABLISHED"
        case .closeWait: "CLOSE_WAIT"
        case .finWait1: "FIN_WAIT_1"
        case .closing: "CLOSING"
        case .lastAck: "LAST_ACK"
        case .finWait2: "FIN_WAIT_2"
        case .timeWait: "TIME_WAIT"
        }
    }
}
