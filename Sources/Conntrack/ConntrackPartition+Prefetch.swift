import CPrefetch

/// Look-ahead hints for a replay loop that knows a packet's hash a few packets before its turn:
/// the index slot and the connection entry its look-up will read are fetched into the cache
/// while earlier packets are processed. Hints only: they change no state and no verdict.
extension ConntrackPartition {
    /// Whether the hints below are worth their instructions now: the table holds at least
    /// `config.prefetchFromConnections` connections (smaller ones sit in the caches).
    public var lookAheadPays: Bool { store.count >= config.prefetchFromConnections }

    /// Whether the configuration wants the hints at every table size (`prefetchFromConnections`
    /// 0), rather than where a replay loop measures them faster.
    public var lookAheadAlwaysPays: Bool { config.prefetchFromConnections == 0 }

    /// Fetches the cache line of the index slot where the probe for `hash` starts.
    @inlinable
    public func prefetchSlot(hash: UInt64) {
        ct_prefetch(lookAheadSlots.home(hash))
    }

    /// Fetches the entry the home slot of `hash` names, if any: both its lines, though an
    /// established IPv4 packet reads only the first (`Connection`); fetching the second only for
    /// the packets that may read it measured slower on the 1M-flow trace with data (9.1-9.6
    /// against 9.6-10.0 Mpps). Call after `prefetchSlot` had time to land.
    ///
    /// Returns the entry fetched, or -1: the look-up's likely answer, which the caller may hand
    /// to `trackTCPSegment` (`entryGuess`) so that it need not read the index again.
    @inlinable
    public func prefetchEntry(hash: UInt64) -> Int {
        guard let entry = lookAheadSlots.likelyEntry(hash) else { return -1 }
        let address = UnsafeRawPointer(lookAheadEntries + entry)
        ct_prefetch_write(address)
        ct_prefetch_write(address + 64)
        return entry
    }

    /// `prefetchSlot(hash: slotHash)` and `prefetchEntry(hash: entryHash)` in one call: a replay
    /// loop's steady state makes both for every packet (for two different packets). Returns
    /// `prefetchEntry`'s guess for `entryHash`.
    @inlinable
    public func prefetch(slotFor slotHash: UInt64, entryFor entryHash: UInt64) -> Int {
        prefetchSlot(hash: slotHash)
        return prefetchEntry(hash: entryHash)
    }
}
