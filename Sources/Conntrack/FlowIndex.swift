import PacketParsing

/// The hash index of a partition: open addressing with linear probing over 8-byte slots, sized
/// once at start (capacity a power of two, at least twice the connection limit, so the load
/// factor stays at or below 50% and there is never a rehash on the packet path).
///
/// A slot holds the upper 32 bits of the flow's symmetric hash (the tag) and the connection's
/// entry index + 1; 0 is empty. The home slot is `tag & mask`, so a slot's home can be
/// recomputed from the slot itself: deletion shifts later entries back (no tombstones).
/// Both directions of a connection hash alike, so one slot serves both.
struct FlowIndex: ~Copyable {
    let slots: UnsafeMutablePointer<UInt64>
    let mask: Int

    init(minimumCapacity: Int) {
        let capacity = FlowIndex.capacity(forMinimum: minimumCapacity)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: 0, count: capacity)
        mask = capacity - 1
    }

    deinit { slots.deallocate() }

    var capacity: Int { mask + 1 }

    /// The slot count an index made for `minimumCapacity` has: a power of two, at least 16.
    static func capacity(forMinimum minimumCapacity: Int) -> Int {
        var capacity = 16
        while capacity < minimumCapacity { capacity <<= 1 }
        return capacity
    }
    var byteCount: Int { capacity * MemoryLayout<UInt64>.stride }

    @inline(__always) static func tag(_ hash: UInt64) -> UInt64 { hash & 0xFFFF_FFFF_0000_0000 }

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
            position = (position + 1) & mask
        }
    }

    /// Adds an entry. The caller guarantees the index has room (limit < capacity / 2).
    func insert(hash: UInt64, entry: Int) {
        var position = Int(truncatingIfNeeded: hash >> 32) & mask
        while slots[position] != 0 { position = (position + 1) & mask }
        slots[position] = FlowIndex.tag(hash) | UInt64(entry + 1)
    }

    /// Removes the slot of `entry` (which must be present under `hash`), shifting back any
    /// later slots of the same probe run so that look-ups never meet a hole.
    func remove(hash: UInt64, entry: Int) {
        let wanted = FlowIndex.tag(hash) | UInt64(entry + 1)
        var hole = Int(truncatingIfNeeded: hash >> 32) & mask
        while slots[hole] != wanted {
            precondition(slots[hole] != 0, "FlowIndex.remove: entry not in the index")
            hole = (hole + 1) & mask
        }
        var next = (hole + 1) & mask
        while slots[next] != 0 {
            let home = Int(truncatingIfNeeded: slots[next] >> 32) & mask
            // Move slots[next] into the hole if its home is not in (hole, next] cyclically.
            let distanceToNext = (next - home) & mask
            let distanceToHole = (hole - home) & mask
            if distanceToHole < distanceToNext {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = 0
    }

}
