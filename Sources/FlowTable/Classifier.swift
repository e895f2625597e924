import Conntrack
import PacketParsing

/// The flow tables, built once from a list of flows: finds the flow a key hits in a table by
/// tuple space search.
///
/// **Which flow wins.** The matching flow with the highest priority; among matching flows of
/// equal priority, the one listed first in the list given to `init` (OVS leaves that case
/// undefined; here it is fixed so that results are reproducible).
///
/// **Design (tuple space search).** The flows of a table are grouped by mask (the "tuple": which
/// bits they match). Each group holds one open-addressed hash table from the masked value
/// (`value & mask`) to the best flow with that value, so a group answers "which of my flows
/// match this key" with one masking, one hash and (usually) one probe. Flows with the same mask
/// and value shadow one another: only the best is kept in the group. Groups are visited in
/// descending order of the highest priority among their flows; the search stops as soon as the
/// next group's highest priority is below the best match found, so high-priority hits end early
/// and a lookup costs at most one probe per distinct mask, whatever the number of flows.
///
/// All groups of all tables live in one array and all hash slots in another (no nested arrays):
/// a lookup allocates nothing.
public struct Classifier: Sendable {
    /// The flows, in the order given (`lookupIndex` answers indices into this array).
    public let flows: [Flow]

    @usableFromInline struct Group: Sendable {
        @usableFromInline var mask: MatchKey
        @usableFromInline var maxPriority: Int
        @usableFromInline var slotStart: Int
        @usableFromInline var slotMask: Int
    }

    @usableFromInline struct Slot: Sendable {
        @usableFromInline var key: MatchKey
        /// Index into `flows`, or -1 for an empty slot.
        @usableFromInline var flow: Int32
        @usableFromInline var priority: Int32
    }

    /// Groups of table t: `groups[tableStart[t] ..< tableStart[t + 1]]`, by descending maxPriority.
    @usableFromInline let tableStart: [Int]
    @usableFromInline let groups: [Group]
    @usableFromInline let slots: [Slot]

    /// The tables that have at least one flow, ascending.
    public let tableNumbers: [UInt8]

    /// Number of distinct masks (groups) in `table`.
    public func maskCount(table: UInt8) -> Int {
        let t = Int(table)
        return t + 1 < tableStart.count ? tableStart[t + 1] - tableStart[t] : 0
    }

    public init(_ flows: [Flow]) {
        self.flows = flows
        let maxTable = flows.map { Int($0.table) }.max() ?? -1
        tableNumbers = Set(flows.map(\.table)).sorted()

        // Per table, per mask: flow indices in list order.
        var byTable = [[MatchKey: [Int]]](repeating: [:], count: maxTable + 1)
        var maskOrder = [[MatchKey]](repeating: [], count: maxTable + 1)
        for (index, flow) in flows.enumerated() {
            let t = Int(flow.table)
            if byTable[t][flow.match.mask] == nil { maskOrder[t].append(flow.match.mask) }
            byTable[t][flow.match.mask, default: []].append(index)
        }

        var tableStart = [0]
        var groups: [Group] = []
        var slots: [Slot] = []
        for t in 0...max(maxTable, 0) where t <= maxTable {
            var tableGroups: [(mask: MatchKey, members: [Int], maxPriority: Int)] = []
            for mask in maskOrder[t] {
                let members = byTable[t][mask]!
                let maxPriority = members.map { Int(flows[$0].priority) }.max()!
                tableGroups.append((mask, members, maxPriority))
            }
            // Stable: groups of equal max priority keep their first-appearance order.
            let order = tableGroups.indices.sorted {
                tableGroups[$0].maxPriority != tableGroups[$1].maxPriority
                    ? tableGroups[$0].maxPriority > tableGroups[$1].maxPriority : $0 < $1
            }
            for g in order {
                let (mask, members, maxPriority) = tableGroups[g]
                var capacity = 4
                while capacity < members.count * 2 { capacity <<= 1 }
                let start = slots.count
                slots.append(contentsOf: repeatElement(Slot(key: MatchKey(), flow: -1, priority: -1), count: capacity))
                for index in members {
                    let value = flows[index].match.value
                    let priority = Int32(flows[index].priority)
                    var i = Int(truncatingIfNeeded: value.hash64) & (capacity - 1)
                    while true {
                        let slot = slots[start + i]
                        if slot.flow < 0 {
                            slots[start + i] = Slot(key: value, flow: Int32(index), priority: priority)
                            break
                        }
                        if slot.key == value {
                            // Same match: members come in list order, so only a higher priority wins.
                            if priority > slot.priority {
                                slots[start + i] = Slot(key: value, flow: Int32(index), priority: priority)
                            }
                            break
                        }
                        i = (i + 1) & (capacity - 1)
                    }
                }
                groups.append(Group(mask: mask, maxPriority: maxPriority, slotStart: start, slotMask: capacity - 1))
            }
            tableStart.append(groups.count)
        }
        self.tableStart = tableStart
        self.groups = groups
        self.slots = slots
    }

    /// The index (into `flows`) of the flow `key` hits in `table`, or nil on a miss.
    @inlinable
    public func lookupIndex(table: UInt8, key: MatchKey) -> Int? {
        let t = Int(table)
        guard t + 1 < tableStart.count else { return nil }
        var best: Int32 = -1
        var bestPriority: Int32 = -1
        var g = tableStart[t]
        let end = tableStart[t + 1]
        while g < end {
            let group = groups[g]
            if Int32(group.maxPriority) < bestPriority { break }
            let masked = key.masked(by: group.mask)
            var i = Int(truncatingIfNeeded: masked.hash64) & group.slotMask
            while true {
                let slot = slots[group.slotStart + i]
                if slot.flow < 0 { break }
                if slot.key == masked {
                    if slot.priority > bestPriority || (slot.priority == bestPriority && slot.flow < best) {
                        best = slot.flow
                        bestPriority = slot.priority
                    }
                    break
                }
                i = (i + 1) & group.slotMask
            }
            g += 1
        }
        return best < 0 ? nil : Int(best)
    }

    /// The flow `key` hits in `table` (highest priority; first listed among equals), or nil.
    @inlinable
    public func lookup(table: UInt8, key: MatchKey) -> Flow? {
        lookupIndex(table: table, key: key).map { flows[$0] }
    }
}
