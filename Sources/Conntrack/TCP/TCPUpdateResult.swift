/// What `TCPTracker.update` decided about one packet of an existing connection.
public enum TCPUpdateResult: Sendable, Equatable {
    /// The packet belongs to the connection (OVS `CT_UPDATE_VALID`).
    case valid
    /// The packet does not fit the connection's state (OVS `CT_UPDATE_INVALID`): ct_state +inv.
    case invalid(TCPInvalidReason)
    /// A bare SYN on a connection whose peers are both closed down (FIN_WAIT_2 or TIME_WAIT):
    /// OVS `CT_UPDATE_NEW`. The caller deletes the old connection and creates a new one from this
    /// packet with `TCPTracker.start`.
    case reopen
}

/// Why a TCP packet was judged invalid. Raw values are stable small integers that index counters.
/// OVS itself reports only "invalid"; the reasons name the first of its checks that failed.
public enum TCPInvalidReason: UInt8, CaseIterable, Sendable {
    /// A flag combination OVS never accepts (`tcp_invalid_flags`): SYN with RST or FIN, neither
    /// SYN nor ACK nor RST, or FIN/PSH/URG without ACK.
    case invalidFlags = 0
    /// SYN+ACK as the first packet of a connection (`tcp_valid_new`); only `start` refuses for it.
    case synAckWithoutConnection
    /// The segment ends beyond what the receiver's window allows (seq + len > td_maxend).
    case seqAboveWindow
    /// The segment starts more than one window before the highest sequence seen.
    case seqBelowWindow
    /// The ACK acknowledges data the other peer has not sent yet (more than MAXACKWINDOW ahead).
    case ackAheadOfData
    /// The ACK is further behind than one (scaled) MAXACKWINDOW.
    case ackBehindWindow
    /// A RST whose sequence number is not the expected one (nor one off it).
    case resetSequenceMismatch

    /// Short name for reports.
    public var name: String {
        switch self {
        case .invalidFlags: "invalid_flags"
        case .synAckWithoutConnection: "syn_ack_new"
        case .seqAboveWindow: "seq_above_window"
        case .seqBelowWindow: "seq_below_window"
        case .ackAheadOfData: "ack_ahead_of_data"
        case .ackBehindWindow: "ack_behind_window"
        case .resetSequenceMismatch: "rst_seq_mismatch"
        }
    }
}
