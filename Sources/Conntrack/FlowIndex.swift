import PacketParsing

/// The hash index of a partition: open addressing with linear probing over 8-byte slots, at
/// most half full. It starts small and doubles when an insert would pass half (a rehash of the
/// slots alone: 8 bytes each, the entries are not touched), up to the capacity its connection
/// limit needs; so a table of 10,000 connections under a limit of a million probes a 256 KiB
/// index that stays in the cache, not a 16 MiB one that misses on every look-up.
///
/// A slot holds the upper 32 bits of the flow's symmetric hash (the tag) and the connection's
/// entry index + 1; 0 is empty. The home slot is `tag & mask`, so a slot's home can be
/// recomputed from the slot itself: deletion shifts later entries back (no tombstones), and
/// growing needs no entry.
/// Both directions of a connection hash alike, so one slot serves both.
/// Positions wrap with `&+ 1` then `& mask`: a position is below the capacity, so the sum
/// cannot overflow, and the checked `+` cost an overflow branch on every probe step.
struct FlowIndex: ~Copyable {
    private(set) var slots: UnsafeMutablePointer<UInt64>
    private(set) var mask: Int
    /// Slots in use.
    private(set) var count = 0
    /// The most slots the index grows to (at least twice the connection limit).
    let maximumCapacity: Int

    /// Slots a new index starts with.
    static let initialCapacity = 4096

    init(minimumCapacity: Int) {
        maximumCapacity = FlowIndex.powerOfTwo(atLeast: minimumCapacity)
        let capacity = Swift.min(maximumCapacity, FlowIndex.initialCapacity)
        slots = HugePageMemory.allocate(UInt64.self, count: capacity)
        slots.initialize(repeating: 0, count: capacity)
        mask = capacity - 1
    }

    deinit { HugePageMemory.deallocate(slots) }

    static func powerOfTwo(atLeast n: Int) -> Int {
        var capacity = 16
        while capacity < n { capacity <<= 1 }
        return capacity
    }

    var capacity: Int { mask + 1 }
    /// Bytes of the index at its largest.
    var maximumByteCount: Int { maximumCapacity * MemoryLayout<UInt64>.stride }

    @inline(__always) static func tag(_ hash: UInt64) -> UInt64 { FlowIndexSlots.tag(hash) }

    /// Visits the entry indices whose tag matches `hash`, in probe order, until `body` returns
    /// true (found) or an empty slot ends the probe. Returns the slot position where `body`
    /// returned true, or nil.
    @inline(__always)
    func probe(hash: UInt64, _ body: (Int) -> Bool) -> Int? {
        let tag = FlowIndex.tag(hash)
        var position = Int(truncatingIfNeeded: hash >> 32) & mask
        while true {
            let slot = slots[position]
            if slot == 0 { return nil }
            // The low 32 bits hold entry index + 1, never 0 for a used slot.
            if slot & 0xFFFF_FFFF_0000_0000 == tag, body(Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1) {
                return position
            }
            position = (position &+ 1) & mask
        }
    }

    /// Adds an entry, doubling the index first when it would pass half full. The caller
    /// guarantees room at the maximum (its limit is at most half the maximum capacity).
    mutating func insert(hash: UInt64, entry: Int) {
        if 2 * (count + 1) > capacity && capacity < maximumCapacity { grow() }
        place(FlowIndex.tag(hash) | UInt64(entry + 1))
        count += 1
    }

    private func place(_ value: UInt64) {
        var position = Int(truncatingIfNeeded: value >> 32) & mask
        while slots[position] != 0 { position = (position &+ 1) & mask }
        slots[position] = value
    }

    /// Doubles the slots and re-places every used one by its tag.
    private mutating func grow() {
        let old = slots, oldCapacity = capacity
        let newCapacity = oldCapacity * 2
        slots = HugePageMemory.allocate(UInt64.self, count: newCapacity)
        slots.initialize(repeating: 0, count: newCapacity)
        mask = newCapacity - 1
        for i in 0..<oldCapacity where old[i] != 0 { place(old[i]) }
        HugePageMemory.deallocate(old)
    }

    /// The slots as the look-ahead reads them (`FlowIndexSlots`): valid until the next insert,
    /// which may grow the index.
    var slotsView: FlowIndexSlots { FlowIndexSlots(slots: slots, mask: mask) }

    /// Where the probe for `hash` starts.
    @inline(__always)
    func home(_ hash: UInt64) -> UnsafeMutablePointer<UInt64> { slotsView.home(hash) }

    /// The entry index the home slot of `hash` names, or 0 when that slot is empty: a guess for a
    /// prefetch that does not wait for the slot (no branch on it). Right for a look-up that ends
    /// at its home slot, nearly all of them at half load and below.
    @inline(__always)
    func homeEntryGuess(_ hash: UInt64) -> Int {
        Swift.max(Int(truncatingIfNeeded: home(hash).pointee & 0xFFFF_FFFF) &- 1, 0)
    }

    /// Removes the slot of `entry` (which must be present under `hash`), shifting back any
    /// later slots of the same probe run so that look-ups never meet a hole.
    mutating func remove(hash: UInt64, entry: Int) {
        let wanted = FlowIndex.tag(hash) | UInt64(entry + 1)
        var hole = Int(truncatingIfNeeded: hash >> 32) & mask
        while slots[hole] != wanted {
            precondition(slots[hole] != 0, "FlowIndex.remove: entry not in the index")
            hole = (hole &+ 1) & mask
        }
        var next = (hole &+ 1) & mask
        while slots[next] != 0 {
            let home = Int(truncatingIfNeeded: slots[next] >> 32) & mask
            // Move slots[next] into the hole if its home is not in (hole, next] cyclically.
            let distanceToNext = (next - home) & mask
            let distanceToHole = (hole - home) & mask
            if distanceToHole < distanceToNext {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next &+ 1) & mask
        }
        slots[hole] = 0
        count -= 1
    }

}

/// A read-only view of a `FlowIndex`'s slots for the look-ahead's prefetches, which the replay
/// loops in other modules inline (`ConntrackPartition.prefetch(slotFor:entryFor:)`): the slot
/// array and its mask, as of the index's last insert (the partition refreshes its copy after
/// each one: an insert may grow the index into new slots).
@usableFromInline
struct FlowIndexSlots {
    @usableFromInline let slots: UnsafeMutablePointer<UInt64>
    @usableFromInline let mask: Int

    @inlinable
    init(slots: UnsafeMutablePointer<UInt64>, mask: Int) {
        self.slots = slots
        self.mask = mask
    }

    /// Where the probe for `hash` starts.
    @inlinable @inline(__always)
    func home(_ hash: UInt64) -> UnsafeMutablePointer<UInt64> {
        slots + (Int(truncatingIfNeeded: hash >> 32) & mask)
    }

    /// The entry index of the first slot with the tag of `hash` in its probe run, looking no
    /// further than the cache line of the home slot (the one `home` prefetched), or nil. A
    /// guess for a prefetch: at half load a third of the look-ups do not end at their home
    /// slot, and nearly all of those end in the same line.
    @inlinable @inline(__always)
    func likelyEntry(_ hash: UInt64) -> Int? {
        let tag = FlowIndexSlots.tag(hash)
        var position = Int(truncatingIfNeeded: hash >> 32) & mask
        while true {
            let slot = slots[position]
            if slot == 0 { return nil }
            if FlowIndexSlots.tag(slot) == tag { return Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1 }
            position = (position &+ 1) & mask
            if position & FlowIndexSlots.slotsPerLineMask == 0 { return nil }  // the next line was not fetched
        }
    }

    /// The upper 32 bits of a flow hash: what a slot keeps of it, beside the entry index + 1.
    @inlinable @inline(__always)
    static func tag(_ hash: UInt64) -> UInt64 { hash & 0xFFFF_FFFF_0000_0000 }

    /// Slots per 64-byte cache line, minus one (slot arrays are line-aligned).
    @inlinable static var slotsPerLineMask: Int { 64 / MemoryLayout<UInt64>.stride - 1 }
}
