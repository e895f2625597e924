import PacketParsing

/// The application-layer gateway attached to a connection (given on its first commit).
public enum ALGKind: UInt8, Sendable, CaseIterable {
    case none = 0
    case ftp
    case tftp

    public var name: String {
        switch self {
        case .none: "none"
        case .ftp: "ftp"
        case .tftp: "tftp"
        }
    }

    public init?(name: String) {
        guard let kind = ALGKind.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

/// One tracked connection: the entry that both directions find. Lives in the partition's
/// connection store; the index of its slot is its handle inside the partition, `id` is its
/// name outside (the trace index of the packet that committed it, so ids do not depend on
/// sharding).
///
/// 128 bytes, two cache lines (pinned by a test): the first holds what identifies and tracks
/// the connection (key, TCP peers), the second its expiry, ids, mark, label and list links.
/// A look-up reads both, so an entry that straddled three lines cost a third memory access
/// per packet in a table larger than the caches. Field order is the layout: no padding.
public struct Connection: Sendable {
    /// Original-direction key, zone included. The reply key is `key.reversed`.
    public var key: FlowKey
    /// TCP state of both peers (unused for other protocols).
    public var tcp: TCPPeers
    /// The timeout class the connection is under now (for TCP: the one its tracker last chose).
    public var timeoutClass: TimeoutClass
    /// The class whose expiry list holds the entry: `timeoutClass`, or an earlier class while
    /// that list still reaches the entry in time (`ConnectionStore.classChanged`).
    var listClass: TimeoutClass = .tcpFirstPacket
    public var alg: ALGKind
    /// UDP / ICMP / other: whether the reply direction has been seen; first-vs-multiple.
    var otherState: OtherState
    public var mark: UInt32
    /// Trace time (ns) at which the connection expires unless refreshed.
    public var expiration: UInt64
    /// The expiration this entry had when it was placed in its expiry list (see `ExpiryLists`).
    var listedExpiration: UInt64
    /// Trace index of the committing packet.
    public var id: UInt64
    /// `id` of the master connection for related connections, else `Connection.noID`.
    public var masterID: UInt64
    /// ct_label, 128 bits as two halves (high, low).
    public var labelHigh: UInt64
    public var labelLow: UInt64
    /// Expiry-list links (entry indices), or the free-list link while the entry is unused.
    var previous: UInt32
    var next: UInt32

    @inlinable public static var noID: UInt64 { .max }

    public var isRelated: Bool { masterID != Connection.noID }
}

/// State of a non-TCP connection, as OVS's conntrack-other / conntrack-icmp keep it.
enum OtherState: UInt8, Sendable {
    case first = 0
    case multiple
    case bidirectional
}
