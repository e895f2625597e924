/// The fixed-capacity storage of a partition's connections, and their expiry lists.
///
/// Entries are allocated once for the connection limit: preallocated, every page is faulted in
/// at once (on huge pages); otherwise pages are touched only as entries are first used. Freed
/// entries go on a LIFO free list (reusing warm memory).
///
/// Expiry: one FIFO list per timeout class. Within a class every connection has the same
/// timeout and trace time only moves forward, so appending at the tail keeps a list (nearly)
/// ordered by `listedExpiration`. A packet only moves `expiration` forward (no list surgery on
/// the packet path); the sweeper looks at list heads: an entry whose `listedExpiration` has
/// passed is either really expired (freed) or was refreshed since (re-appended with its new
/// expiration). Work per sweep step is O(1) and the caller bounds the steps per packet.
/// A re-appended entry may sit behind a later-listed one, so reclaiming an expired entry can lag
/// by up to one timeout period; that affects memory only, never a verdict, because look-ups
/// check `expiration` themselves.
///
/// A class change relinks the entry only when its new expiration comes before the listed one;
/// otherwise it stays where it is (`listClass`), and the sweeper, reaching it at its listed
/// expiration, re-lists it under its current class. A TCP connection's SYN, SYN-ACK, ACK and
/// FIN each change its class: relinking at once touched two other entries (list neighbours,
/// random memory) per change.
struct ConnectionStore: ~Copyable {
    static let none = UInt32.max

    let entries: UnsafeMutablePointer<Connection>
    let capacity: Int
    /// Entries ever handed out; entries below this index are initialised memory.
    private(set) var highWater = 0
    private var freeHead = ConnectionStore.none
    private(set) var count = 0
    /// Head and tail entry of each class's list (indexed by `TimeoutClass.rawValue`).
    private let heads: UnsafeMutablePointer<UInt32>
    private let tails: UnsafeMutablePointer<UInt32>
    /// No list head has a listed expiration before this: the sweeper has nothing to do until
    /// trace time reaches it. Lowered whenever a list gets a new head; made exact again by
    /// `recomputeSweepHorizon`.
    private(set) var sweepHorizon: UInt64 = .max

    /// `preallocate`: fault every entry in now, on huge pages (`ConntrackConfig.preallocate`).
    init(capacity: Int, preallocate: Bool = false) {
        self.capacity = capacity
        // Lazily, small pages: entries are first touched one by one as connections arrive, and
        // each first touch of a huge page stalled the packet path (1M new flows: 5.4 Mpps on
        // huge pages, 6.1 on small ones). Preallocated, huge pages: the faults are all taken
        // here, and a look-up in a table far larger than the caches misses the TLB far less
        // often (1M flows: +8-12%). docs/PERFORMANCE.md.
        entries = HugePageMemory.allocate(Connection.self, count: capacity, hugePages: preallocate)
        if preallocate {
            HugePageMemory.populate(UnsafeMutableRawPointer(entries), bytes: capacity * MemoryLayout<Connection>.stride)
            populatedUpTo = capacity
        }
        heads = .allocate(capacity: TimeoutClass.allCases.count)
        heads.initialize(repeating: ConnectionStore.none, count: TimeoutClass.allCases.count)
        tails = .allocate(capacity: TimeoutClass.allCases.count)
        tails.initialize(repeating: ConnectionStore.none, count: TimeoutClass.allCases.count)
    }

    deinit {
        entries.deinitialize(count: highWater)
        HugePageMemory.deallocate(entries)
        heads.deallocate()
        tails.deallocate()
    }

    /// Sets `sweepHorizon` to the earliest listed expiration among the list heads.
    mutating func recomputeSweepHorizon() {
        var horizon = UInt64.max
        for c in 0..<TimeoutClass.allCases.count where heads[c] != ConnectionStore.none {
            horizon = Swift.min(horizon, entries[Int(heads[c])].listedExpiration)
        }
        sweepHorizon = horizon
    }

    var isFull: Bool { count >= capacity }
    var bytesPerEntry: Int { MemoryLayout<Connection>.stride }

    /// Takes a free entry and initialises it with `connection`, appended to its class's expiry
    /// list. Returns nil when the store is full.
    mutating func allocate(_ connection: Connection) -> Int? {
        let index: Int
        if freeHead != ConnectionStore.none {
            index = Int(freeHead)
            freeHead = entries[index].next
            entries[index] = connection
        } else if highWater < capacity {
            index = highWater
            if index == populatedUpTo { populateAhead() }
            (entries + index).initialize(to: connection)
            highWater += 1
        } else {
            return nil
        }
        count += 1
        append(index)
        return index
    }

    /// Entries below this index sit on pages already faulted in (`populateAhead`).
    private(set) var populatedUpTo = 0

    /// Faults in the next stretch of never-used entries in one call (`MADV_POPULATE_WRITE`)
    /// instead of one page fault per 4 KiB as the table fills. Advice only: where the kernel
    /// lacks it (before Linux 5.14), pages fault in one by one as before.
    private mutating func populateAhead() {
        let stride = MemoryLayout<Connection>.stride
        let chunk = 256 << 10  // bytes populated per call
        let start = populatedUpTo * stride
        let end = Swift.min(start + chunk, capacity * stride)
        HugePageMemory.populateAdvice(UnsafeMutableRawPointer(entries) + start, bytes: end - start)
        populatedUpTo = Swift.max(populatedUpTo + 1, end / stride)
    }

    /// Unlinks an entry from its expiry list and puts it on the free list.
    mutating func free(_ index: Int) {
        unlink(index)
        entries[index].id = Connection.noID
        entries[index].next = freeHead
        freeHead = UInt32(index)
        count -= 1
    }

    /// Records an entry's new class (after its new expiration was set). The entry moves to the
    /// tail of the new class's list only if its list would reach it too late: its expiration
    /// is now before the one it was listed with.
    @inline(__always)
    mutating func classChanged(_ index: Int, to timeoutClass: TimeoutClass) {
        entries[index].timeoutClass = timeoutClass
        if entries[index].expiration < entries[index].listedExpiration {
            unlink(index)
            append(index)
        }
    }

    /// The oldest entry of a class whose listed expiration has passed `now`, re-appending
    /// refreshed heads on the way (at most `budget` steps). Returns nil when the class has no
    /// expired entry at its head (or the budget ran out); `budget` is decremented per step.
    mutating func nextExpired(in timeoutClass: TimeoutClass, now: UInt64, budget: inout Int) -> Int? {
        let c = Int(timeoutClass.rawValue)
        while budget > 0 {
            let head = heads[c]
            if head == ConnectionStore.none { return nil }
            let index = Int(head)
            if entries[index].listedExpiration > now { return nil }
            budget -= 1
            if entries[index].expiration <= now { return index }
            // Refreshed since it was listed: re-list it with its current expiration (in the
            // list of its current class).
            unlink(index)
            append(index)
        }
        return nil
    }

    private mutating func append(_ index: Int) {
        entries[index].listClass = entries[index].timeoutClass
        let c = Int(entries[index].timeoutClass.rawValue)
        entries[index].listedExpiration = entries[index].expiration
        entries[index].next = ConnectionStore.none
        entries[index].previous = tails[c]
        if tails[c] == ConnectionStore.none {
            heads[c] = UInt32(index)
            if entries[index].listedExpiration < sweepHorizon { sweepHorizon = entries[index].listedExpiration }
        } else {
            entries[Int(tails[c])].next = UInt32(index)
        }
        tails[c] = UInt32(index)
    }

    private mutating func unlink(_ index: Int) {
        let c = Int(entries[index].listClass.rawValue)
        let previous = entries[index].previous, next = entries[index].next
        if previous == ConnectionStore.none {
            heads[c] = next
            if next != ConnectionStore.none && entries[Int(next)].listedExpiration < sweepHorizon {
                sweepHorizon = entries[Int(next)].listedExpiration
            }
        } else {
            entries[Int(previous)].next = next
        }
        if next == ConnectionStore.none { tails[c] = previous } else { entries[Int(next)].previous = previous }
    }
}
