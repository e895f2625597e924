/// Packets per final action (`PacketAction`), for the reports. A policy yields a handful of
/// distinct actions, so they are kept in a short list, searched from the last one hit: no
/// hashing and no allocation per packet.
public struct ActionCounts: Sendable, Equatable {
    public private(set) var actions: [PacketAction] = []
    public private(set) var counts: [UInt64] = []
    private var lastHit = 0

    public init() {}

    /// Counts one packet.
    @inline(__always)
    mutating func add(_ action: PacketAction) {
        if lastHit < actions.count && actions[lastHit] == action {
            counts[lastHit] &+= 1
            return
        }
        if let i = actions.firstIndex(of: action) {
            lastHit = i
            counts[i] &+= 1
            return
        }
        lastHit = actions.count
        actions.append(action)
        counts.append(1)
    }

    /// Adds another shard's counts.
    public mutating func merge(_ other: ActionCounts) {
        for (action, count) in zip(other.actions, other.counts) {
            if let i = actions.firstIndex(of: action) {
                counts[i] += count
            } else {
                actions.append(action)
                counts.append(count)
            }
        }
    }

    /// Counts keyed by the action's text (`output:1`, `drop`, ...; see `PacketAction`).
    public var byName: [String: UInt64] {
        var out: [String: UInt64] = [:]
        for (action, count) in zip(actions, counts) { out[action.description, default: 0] += count }
        return out
    }

    public static func == (a: ActionCounts, b: ActionCounts) -> Bool { a.byName == b.byName }
}
