/// What a partition's table costs in memory, known before it is made (for ctbench's
/// memory prediction).
extension ConntrackPartition {
    /// Bytes a partition allocates for a connection limit: the index, touched when it is made,
    /// and the entries, touched as they are first used (all of them once the table has been
    /// full). `bytesPerConnection` of a partition is this over its limit.
    public static func tableBytes(maxConnections: Int) -> Int {
        FlowIndex.capacity(forMinimum: 2 * Swift.max(maxConnections, 8)) * MemoryLayout<UInt64>.stride
            + Swift.max(maxConnections, 1) * MemoryLayout<Connection>.stride
    }
}
