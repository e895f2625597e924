/// What a partition's table costs in memory, known before it is made (for ctbench's
/// memory prediction).
extension ConntrackPartition {
    /// The most resident bytes a partition's table can reach for a connection limit: the
    /// entries (touched as they are first used: all of them once the table has been full) and
    /// the index at its largest, plus the half-size index it grew from, alive while the last
    /// doubling copies it. Each array of 2 MiB or more is rounded up to 2 MiB (`HugePageMemory`:
    /// the index's pages; for the entries, on small pages, an upper bound).
    public static func tableBytes(maxConnections: Int) -> Int {
        let slots = FlowIndex.powerOfTwo(atLeast: 2 * Swift.max(maxConnections, 8)) * MemoryLayout<UInt64>.stride
        let entries = Swift.max(maxConnections, 1) * MemoryLayout<Connection>.stride
        let previous = slots / 2 > FlowIndex.initialCapacity * MemoryLayout<UInt64>.stride ? slots / 2 : 0
        return hugePageRounded(slots) + hugePageRounded(previous) + hugePageRounded(entries)
    }

    private static func hugePageRounded(_ bytes: Int) -> Int {
        let page = bytes >= HugePageMemory.hugePage ? HugePageMemory.hugePage : 4_096
        return (bytes + page - 1) / page * page
    }
}
