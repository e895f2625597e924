/// The timeout classes of a connection, after Open vSwitch's `CT_TM_*` (lib/conntrack-tp.c).
/// A connection sits in exactly one class at a time; each class keeps its own expiry list.
public enum TimeoutClass: UInt8, CaseIterable, Sendable {
    case tcpFirstPacket = 0
    case tcpOpening
    case tcpEstablished
    case tcpClosing
    case tcpFinWait
    case tcpClosed
    case otherFirst
    case otherMultiple
    case otherBidir
    case icmpFirst
    case icmpReply

    /// The OVS timeout-policy attribute name (`ovs-vsctl add-zone-tp`), used on the command line.
    public var name: String {
        switch self {
        case .tcpFirstPacket: "tcp_syn_sent"
        case .tcpOpening: "tcp_syn_recv"
        case .tcpEstablished: "tcp_established"
        case .tcpClosing: "tcp_fin_wait"
        case .tcpFinWait: "tcp_time_wait"
        case .tcpClosed: "tcp_close"
        case .otherFirst: "udp_first"
        case .otherMultiple: "udp_single"
        case .otherBidir: "udp_multiple"
        case .icmpFirst: "icmp_first"
        case .icmpReply: "icmp_reply"
        }
    }
}

/// Seconds of trace time a connection may stay idle in each timeout class. The defaults are
/// Open vSwitch's userspace defaults (UDP uses the "other" classes there, as here).
public struct TimeoutPolicy: Sendable, Equatable {
    /// Timeout per class in nanoseconds, indexed by `TimeoutClass.rawValue`.
    public var nanoseconds: [UInt64]

    public static let ovsDefaults = TimeoutPolicy(seconds: [
        .tcpFirstPacket: 30, .tcpOpening: 30, .tcpEstablished: 86_400, .tcpClosing: 900,
        .tcpFinWait: 45, .tcpClosed: 30, .otherFirst: 60, .otherMultiple: 60, .otherBidir: 30,
        .icmpFirst: 60, .icmpReply: 30,
    ])

    public init(seconds: [TimeoutClass: UInt64]) {
        nanoseconds = TimeoutClass.allCases.map { (seconds[$0] ?? 30) * 1_000_000_000 }
    }

    public subscript(_ timeoutClass: TimeoutClass) -> UInt64 {
        get { nanoseconds[Int(timeoutClass.rawValue)] }
        set { nanoseconds[Int(timeoutClass.rawValue)] = newValue }
    }

    /// Sets a class's timeout by its name (`tcp_established=3600`), as the command line gives it.
    /// Returns false for an unknown name.
    public mutating func set(_ name: String, seconds: UInt64) -> Bool {
        guard let c = TimeoutClass.allCases.first(where: { $0.name == name }) else { return false }
        self[c] = seconds * 1_000_000_000
        return true
    }
}
