import Conntrack
import PacketParsing

/// What one flow matches: a value and a mask of the same shape. A key matches when
/// `key & mask == value`. The value is kept normalised (`value & mask`), so two matches over
/// the same packets compare equal.
public struct FlowMatch: Hashable, Sendable {
    public let value: MatchKey
    public let mask: MatchKey

    /// The match-everything flow match (empty mask).
    @inlinable public init() {
        value = MatchKey()
        mask = MatchKey()
    }

    /// A match from a value and a mask; bits of `value` outside `mask` are dropped.
    @inlinable public init(value: MatchKey, mask: MatchKey) {
        self.value = value.masked(by: mask)
        self.mask = mask
    }

    /// Whether `key` has the matched bits of this flow.
    @inlinable public func matches(_ key: MatchKey) -> Bool {
        key.masked(by: mask) == value
    }
}

/// A `ct(...)` action: what it asks of conntrack and where the packet goes next.
public struct CTSpec: Hashable, Sendable {
    /// Where the packet continues after conntrack.
    public enum Recirculation: Hashable, Sendable {
        /// Not re-injected: the remaining actions of the flow run (with the ct fields of the
        /// key unchanged, as OVS's `ct` without `table=`).
        case none
        /// Back to the table whose flow ran the `ct` (our `ct(recirc)`), ct fields updated.
        case sameTable
        /// To table N (OVS's `ct(table=N)`), ct fields updated.
        case table(UInt8)
    }

    public var commit: Bool
    /// ALG for the connection, honoured on the commit that creates it.
    public var alg: ALGKind
    public var zone: UInt16
    public var recirculation: Recirculation
    /// `exec(set_field:V/M->ct_mark)`: mask 0 leaves the mark alone.
    public var mark: UInt32
    public var markMask: UInt32
    /// `exec(set_field:V->ct_label)`.
    public var label: CTLabel?

    public init(commit: Bool = false, alg: ALGKind = .none, zone: UInt16 = 0, recirculation: Recirculation = .none,
                mark: UInt32 = 0, markMask: UInt32 = 0, label: CTLabel? = nil) {
        self.commit = commit
        self.alg = alg
        self.zone = zone
        self.recirculation = recirculation
        self.mark = mark
        self.markMask = markMask
        self.label = label
    }

    /// The request for `ConntrackPartition` (everything but the recirculation).
    @inlinable public var conntrackAction: CTAction {
        CTAction(zone: zone, commit: commit, alg: alg, mark: mark, markMask: markMask, label: label)
    }

    /// Whether the packet is re-injected into the pipeline after conntrack.
    @inlinable public var recirculates: Bool { recirculation != .none }
}

/// One action of a flow's action list. See `Classifier.run` for what a list does.
public enum FlowAction: Hashable, Sendable {
    /// Send the packet through conntrack; see `CTSpec.Recirculation` for what follows.
    case ct(CTSpec)
    /// Output to a port (`output:N` or a bare `N`).
    case output(Int)
    /// The switch's normal forwarding (`normal`).
    case normal
    /// Discard (`drop`; only ever the sole action, as OVS requires).
    case drop
    /// Look the packet up in another table and run that flow's actions, then continue here.
    case resubmit(table: UInt8)
}

/// One flow: table, priority, match, actions.
public struct Flow: Hashable, Sendable {
    /// OVS's default priority.
    public static let defaultPriority: UInt16 = 32768

    public var table: UInt8
    public var priority: UInt16
    public var match: FlowMatch
    public var actions: [FlowAction]

    public init(table: UInt8 = 0, priority: UInt16 = Flow.defaultPriority, match: FlowMatch = FlowMatch(),
                actions: [FlowAction]) {
        self.table = table
        self.priority = priority
        self.match = match
        self.actions = actions
    }

    /// Whether `actions` drops the packet outright (`drop` or an empty list).
    public var isDrop: Bool { actions.isEmpty || actions == [.drop] }
}
