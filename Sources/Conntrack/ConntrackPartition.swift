import PacketParsing

/// One single-threaded connection-tracking partition with Open vSwitch semantics: it owns a
/// fixed-capacity connection table (index + entries + expiry lists), answers each packet with
/// ct_state flags, commits connections, and reclaims expired ones a few steps per packet.
///
/// No locks and no actors: the sharded datapath owns one partition per shard. Time is passed
/// in (trace time, ns); the replay keeps it monotonic in trace order.
///
/// A packet goes through `precheck` (once), `lookupExisting` (a live connection?), and
/// `commitNew` (may it start one; commit), then `count`. `process` runs them in a row with
/// this partition's own expectation table; the sharded datapath runs the steps itself so that a
/// new connection can ask the expectation's owner shard.
public final class ConntrackPartition {
    public let config: ConntrackConfig
    var index: FlowIndex {
        didSet { lookAheadSlots = index.slotsView }  // an insert may have grown it into a new array
    }
    var store: ConnectionStore
    /// The index's slots and the store's entries as the look-ahead's prefetches read them,
    /// inlined into replay loops in other modules (`prefetch(slotFor:entryFor:)`): a copy of the
    /// index's slot pointer and mask, refreshed after every change to the index.
    @usableFromInline private(set) var lookAheadSlots: FlowIndexSlots
    @usableFromInline let lookAheadEntries: UnsafeMutablePointer<Connection>
    /// The expectations this partition owns (all of them, when it runs alone).
    public let expectations: ExpectationTable
    /// Counters of this partition: the scalar ones, and the per-state/per-reason/per-protocol
    /// arrays read out of the hot-path counters.
    public var stats: ConntrackStats {
        var stats = counts
        stats.packetsByState = stateCounts.values
        stats.invalidByReason = invalidCounts.values
        stats.tcpInvalidByReason = tcpInvalidCounts.values
        stats.committedByProtocol = committedCounts.values
        return stats
    }
    /// The scalar counters (its arrays are unused: see the counter arrays below).
    var counts = ConntrackStats()
    @usableFromInline let stateCounts = CounterArray(count: 256)
    @usableFromInline let invalidCounts = CounterArray(count: InvalidReason.allCases.count)
    let tcpInvalidCounts = CounterArray(count: TCPInvalidReason.allCases.count)
    let committedCounts = CounterArray(count: 256)
    /// Latest trace time seen (the sweeper's clock). Verdicts use each packet's own time.
    public internal(set) var now: UInt64 = 0
    /// Whether `closedALGConnections` holds any: asked once per packet, next to `now` (the
    /// array's own count sits in another object).
    public internal(set) var hasClosedALGConnections = false
    var zoneCounts: [UInt16: Int] = [:]
    /// Whether any zone has a limit (`config.zoneLimits` is not empty).
    let hasZoneLimits: Bool
    /// `config.timeouts[.tcpEstablished]`, read by the TCP lane on every packet: kept beside
    /// `timeoutTable` (which holds it too) so that the established path loads it in one step.
    let establishedTimeout: UInt64
    /// `config.timeouts` by class's raw value, read without the array's bounds check and
    /// indirection on every state change (`timeoutNanoseconds(_:)`).
    private let timeoutTable: UnsafeMutablePointer<UInt64>
    var sweepCursor = 0
    /// Class heads visited in a row without finding an expired connection.
    var idleSweepVisits = 0
    /// Connections with an ALG removed since the owner last drained this list: their ALG
    /// stream state and their expectations (wherever they are owned) must go too.
    public internal(set) var closedALGConnections: [DeadMaster] = []
    /// When recently removed ALG connections died, so that `masterAlive` can answer for a time
    /// before the removal (a sharded datapath asks about earlier packets). See `forgetDeadMasters`.
    var deadMasters: [UInt64: UInt64] = [:]

    public init(config: ConntrackConfig = ConntrackConfig(), expectationLimits: ExpectationTable.Limits = .init()) {
        self.config = config
        expectations = ExpectationTable(limits: expectationLimits)
        hasZoneLimits = !config.zoneLimits.isEmpty
        establishedTimeout = config.timeouts[.tcpEstablished]
        timeoutTable = .allocate(capacity: TimeoutClass.allCases.count)
        for timeoutClass in TimeoutClass.allCases {
            (timeoutTable + Int(timeoutClass.rawValue)).initialize(to: config.timeouts[timeoutClass])
        }
        index = FlowIndex(minimumCapacity: 2 * Swift.max(config.maxConnections, 8))
        store = ConnectionStore(capacity: config.maxConnections, preallocate: config.preallocate)
        lookAheadSlots = index.slotsView
        lookAheadEntries = store.entries
    }

    deinit { timeoutTable.deallocate() }

    /// The timeout of a class (`config.timeouts[timeoutClass]`).
    @inline(__always)
    func timeoutNanoseconds(_ timeoutClass: TimeoutClass) -> UInt64 { timeoutTable[Int(timeoutClass.rawValue)] }

    /// Connections currently stored (expired ones not yet reclaimed included).
    public var count: Int { store.count }

    /// Bytes the table takes per connection slot when full: entry plus its share of the index at
    /// its largest.
    public var bytesPerConnection: Double {
        Double(store.bytesPerEntry) + Double(index.maximumByteCount) / Double(Swift.max(config.maxConnections, 1))
    }

    /// The hash `process` expects for `key` (zone included).
    @inlinable @inline(__always)
    public func hash(_ key: FlowKey) -> UInt64 { key.symmetricHash(seed: config.hashSeed) }

    /// Runs one parsed IP packet through conntrack, alone: expectations are this partition's
    /// own table (the single-partition reference; a sharded datapath calls the steps itself).
    /// - Parameters:
    ///   - packet: the parser's output (`.ok`); its key's zone is replaced by `action.zone`.
    ///   - frame: the captured bytes (for ICMP errors and checksums).
    ///   - hash: `symmetricHash(seed: config.hashSeed)` of the key with `action.zone`.
    ///   - packetIndex: the packet's trace index; becomes the id of a connection it commits.
    ///   - time: the packet's trace time in ns (monotonic: the replay makes it so).
    public func process(
        _ packet: ParsedPacket, frame: UnsafeRawBufferPointer, hash: UInt64,
        packetIndex: UInt64, time: UInt64, action: CTAction
    ) -> CTVerdict {
        var key = packet.key
        key.zone = action.zone
        let verdict = precheck(packet, frame: frame, zone: action.zone, time: time)
            ?? lookupExisting(packet, key: key, frame: frame, hash: hash, time: time, action: action)
            ?? commitNew(packet, key: key, hash: hash, packetIndex: packetIndex, time: time, action: action,
                         expected: localExpectation(for: key, time: time))
        if verdict.consumedExpectation { _ = expectations.consume(key, time: time) }
        count(verdict)
        return verdict
    }

    /// Convenience for tests and tools: computes the hash itself.
    public func process(
        _ packet: ParsedPacket, frame: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
        packetIndex: UInt64, time: UInt64, action: CTAction
    ) -> CTVerdict {
        var key = packet.key
        key.zone = action.zone
        return process(packet, frame: frame, hash: hash(key), packetIndex: packetIndex, time: time, action: action)
    }

    /// Step 1, once per packet: moves the clock, reclaims a few expired connections, and gives
    /// the final verdict for packets conntrack does not track (fragments; bad checksums when
    /// enforced, counted in any case). Nil: go on with `lookupExisting`.
    @inline(__always)
    public func precheck(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, zone: UInt16, time: UInt64) -> CTVerdict? {
        if time > now { now = time }
        sweep(steps: config.sweepStepsPerPacket)
        if packet.fragment != .none { return .invalid(.fragment, zone: zone) }
        if config.checksums != .off, !ChecksumVerifier.verify(packet, frame: frame) {
            counts.badChecksums &+= 1
            if config.checksums == .enforce { return .invalid(.badChecksum, zone: zone) }
        }
        return nil
    }

    /// Step 2: the packet's connection, if one is live at `time` (an ICMP error: the connection
    /// its embedded packet belongs to). Nil: no such connection (a dead one found on the way is
    /// removed), go on with `commitNew`. May run twice for a packet (the sharded datapath parks
    /// misses and retries them in order); a miss changes nothing but removing dead entries.
    @inline(__always)
    public func lookupExisting(
        _ packet: ParsedPacket, key: FlowKey, frame: UnsafeRawBufferPointer, hash: UInt64,
        time: UInt64, action: CTAction
    ) -> CTVerdict? {
        if ICMPTracking.isError(packet) {
            return relatedToICMPError(packet, frame: frame, zone: key.zone, time: time)
        }
        guard let (entry, isReply) = find(key, hash: hash) else { return nil }
        if store.entries[entry].expiration > time {
            switch update(entry, packet, isReply: isReply, time: time) {
            case .valid:
                return existing(entry, isReply: isReply, action: action)
            case .invalid(let reason):
                var verdict = CTVerdict.invalid(reason, zone: key.zone)
                verdict.connectionID = store.entries[entry].id
                verdict.masterID = store.entries[entry].masterID
                return verdict
            case .reopen:
                remove(entry, hash: hash, deathTime: time)
                counts.replaced &+= 1
            }
        } else {
            remove(entry, hash: hash, deathTime: store.entries[entry].expiration)
            counts.expired &+= 1
        }
        return nil
    }

    /// Steps 1 and 2 in one call (`precheck` skipped when `prechecked`): the verdict of either,
    /// or nil for a miss. One call across the module boundary instead of two per packet: each
    /// passes the packet and spills the caller's registers.
    public func precheckAndLookup(
        _ packet: ParsedPacket, key: FlowKey, frame: UnsafeRawBufferPointer, hash: UInt64,
        time: UInt64, action: CTAction, prechecked: Bool
    ) -> CTVerdict? {
        if !prechecked, let verdict = precheck(packet, frame: frame, zone: key.zone, time: time) { return verdict }
        return lookupExisting(packet, key: key, frame: frame, hash: hash, time: time, action: action)
    }

    /// The live expectation of this partition's own table that a new connection `key` matches
    /// at `time`, if its master is alive then too (single-partition use).
    public func localExpectation(for key: FlowKey, time: UInt64) -> Expectation? {
        guard let expected = expectations.peek(key, time: time),
              masterAlive(id: expected.masterID, key: expected.masterKey, at: time) else { return nil }
        return expected
    }

    /// Counts a finished verdict (once per packet). Inlinable: as a call it took the verdict
    /// by reference and the caller copied the whole struct for it on every packet.
    @inlinable @inline(__always)
    public func count(_ verdict: CTVerdict) {
        stateCounts.increment(Int(verdict.state.rawValue))
        if let reason = verdict.invalidReason { invalidCounts.increment(Int(reason.rawValue)) }
    }

    /// The connection behind a verdict's `entry`.
    public func connection(at entry: Int32) -> Connection {
        store.entries[Int(entry)]
    }

    /// Turns an accepted packet's verdict into +inv because an ALG refused what it carried
    /// (the flags OVS gives it: the connection's flags plus inv). Call before `count`.
    public func markRefusedByALG(_ verdict: inout CTVerdict) {
        verdict.state.insert(.invalid)
        verdict.invalidReason = .algRejected
    }

    // MARK: - The per-packet decision

    /// `find`'s answer read from the entry at `guess` alone, where that entry is live and holds
    /// `key` (either way); nil otherwise (then `find` must look). `guess` is any integer: a
    /// look-ahead's reading of the index some packets earlier (`prefetchEntry`), stale or not,
    /// or -1. The table holds at most one entry per key (a commit follows a miss, and a dead
    /// entry a look-up meets is removed before the commit), and every live entry is in the
    /// index; so a live entry with the key is the one `find` would return.
    @inline(__always)
    func confirm(_ guess: Int, key: FlowKey) -> (entry: Int, isReply: Bool)? {
        guard UInt(bitPattern: guess) < UInt(bitPattern: store.highWater), store.entries[guess].isLive,
              let reply = Connection.direction(of: key, at: store.entries + guess) else { return nil }
        return (guess, reply)
    }

    /// Finds the entry for `key` in either direction.
    @inline(__always)
    func find(_ key: FlowKey, hash: UInt64) -> (entry: Int, isReply: Bool)? {
        var isReply = false
        let entries = store.entries
        let position = index.probe(hash: hash) { entry in
            guard let reply = Connection.direction(of: key, at: entries + entry) else { return false }
            isReply = reply
            return true
        }
        guard let position else { return nil }
        return (Int(truncatingIfNeeded: index.slots[position] & 0xFFFF_FFFF) - 1, isReply)
    }

    enum UpdateResult { case valid, invalid(InvalidReason), reopen }

    /// The protocol tracker's view of a packet on an existing connection; refreshes expiry.
    @inline(__always)
    func update(_ entry: Int, _ packet: ParsedPacket, isReply: Bool, time: UInt64) -> UpdateResult {
        let connection = store.entries + entry
        let newClass: TimeoutClass
        if packet.key.proto == IPProtocol.tcp {
            var timeout = TCPTimeoutClass.firstPacket, refreshed = false
            switch connection.pointee.tcp.update(packet, isReply: isReply, timeout: &timeout, refreshed: &refreshed) {
            case .valid: break
            case .invalid(let reason):
                tcpInvalidCounts.increment(Int(reason.rawValue))
                return .invalid(.tcpInvalidUpdate)
            case .reopen: return .reopen
            }
            // OVS leaves the timer and the class alone for packets it accepts only loosely
            // (repeated SYNs, stragglers after close).
            guard refreshed else { return .valid }
            newClass = TimeoutClass(timeout)
        } else if packet.key.proto == IPProtocol.icmp || packet.key.proto == IPProtocol.icmpv6 {
            guard ICMPTracking.directionIsValid(packet, isReply: isReply) else {
                return .invalid(.icmpWrongDirection)
            }
            if isReply { connection.pointee.otherState = .bidirectional }
            newClass = connection.pointee.otherState == .bidirectional ? .icmpReply : .icmpFirst
        } else {
            let state = connection.pointee.otherState
            connection.pointee.otherState = isReply || state == .bidirectional ? .bidirectional : .multiple
            newClass = connection.pointee.otherState == .bidirectional ? .otherBidir : .otherMultiple
        }
        connection.pointee.expiration = time &+ timeoutNanoseconds(newClass)  // ns of trace time: no wrap
        if newClass != connection.pointee.timeoutClass { classChanged(entry, to: newClass) }
        return .valid
    }

    /// Verdict for a valid packet of a stored connection; applies a commit's mark/label.
    @inline(__always)
    func existing(_ entry: Int, isReply: Bool, action: CTAction) -> CTVerdict {
        let connection = store.entries + entry
        if action.commit && (action.markMask != 0 || action.label != nil) { applyMarkAndLabel(connection, action) }
        var verdict = CTVerdict(state: ConntrackPartition.existingState(isReply: isReply,
                                                                        masterID: connection.pointee.masterID),
                                zone: connection.pointee.key.zone)
        verdict.connectionID = connection.pointee.id
        verdict.masterID = connection.pointee.masterID
        verdict.mark = connection.pointee.mark
        verdict.label = CTLabel(high: connection.pointee.labelHigh, low: connection.pointee.labelLow)
        verdict.alg = connection.pointee.alg
        verdict.entry = Int32(truncatingIfNeeded: entry)
        return verdict
    }

    func applyMarkAndLabel(_ connection: UnsafeMutablePointer<Connection>, _ action: CTAction) {
        connection.pointee.mark = (connection.pointee.mark & ~action.markMask) | (action.mark & action.markMask)
        if let label = action.label {
            connection.pointee.labelHigh = label.high
            connection.pointee.labelLow = label.low
        }
    }
}
