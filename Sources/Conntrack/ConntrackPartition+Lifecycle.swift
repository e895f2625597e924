import PacketParsing

/// Creating, removing and reclaiming connections.
extension ConntrackPartition {
    /// Step 3, for a packet that found no live connection: may it start one (+trk+new, +rel
    /// with `expected`, the matching expectation its owner found), and commit it when asked
    /// and the limits allow. The caller consumes `expected` at its owner when the verdict says
    /// `consumedExpectation`.
    public func commitNew(
        _ packet: ParsedPacket, key: FlowKey, hash: UInt64, packetIndex: UInt64, time: UInt64,
        action: CTAction, expected: Expectation?
    ) -> CTVerdict {
        if ICMPTracking.isError(packet) { return .invalid(.icmpErrorUnrelated, zone: key.zone) }
        var tcp = TCPPeers(origin: TCPPeer(), reply: TCPPeer())  // unused unless TCP
        let firstClass: TimeoutClass
        switch key.proto {
        case IPProtocol.tcp:
            guard let started = TCPTracker.start(packet) else { return .invalid(.tcpInvalidNew, zone: key.zone) }
            tcp = started.peers
            firstClass = .tcpFirstPacket
        case IPProtocol.icmp, IPProtocol.icmpv6:
            guard ICMPTracking.mayStartConnection(packet) else { return .invalid(.icmpInvalidNew, zone: key.zone) }
            firstClass = .icmpFirst
        default:
            firstClass = .otherFirst
        }
        // What a related connection takes from its expectation, read out once: each optional
        // access to the 136-byte expectation had copied it (ten `memcpy`s per commit).
        var masterID = Connection.noID, inheritedMark: UInt32 = 0, inheritedLabel = CTLabel.zero
        if let expected {
            masterID = expected.masterID
            inheritedMark = expected.mark
            inheritedLabel = expected.label
        }
        let isRelated = masterID != Connection.noID
        var verdict = CTVerdict(state: isRelated ? [.tracked, .new, .related] : [.tracked, .new], zone: key.zone)
        verdict.masterID = masterID
        guard action.commit else { return verdict }

        // (`hasZoneLimits` first: no dictionary hashing per commit when no zone is limited.)
        if hasZoneLimits, let limit = config.zoneLimits[key.zone], zoneCounts[key.zone, default: 0] >= limit {
            counts.refusedByZoneLimit &+= 1
            verdict.refusedByLimit = true
            return verdict
        }
        // A related connection starts with its master's mark and label (as in OVS); the
        // commit's own mark/label then apply on top.
        let label = action.label ?? inheritedLabel
        let connection = Connection(
            key: key, tcp: tcp, timeoutClass: firstClass, alg: action.alg, otherState: .first,
            mark: (inheritedMark & ~action.markMask) | (action.mark & action.markMask),
            expiration: time &+ timeoutNanoseconds(firstClass),
            id: packetIndex, masterID: masterID, labelHigh: label.high, labelLow: label.low)
        guard let entry = store.allocate(connection) else {
            counts.refusedByLimit &+= 1
            verdict.refusedByLimit = true
            return verdict
        }
        index.insert(hash: hash, entry: entry)
        verdict.consumedExpectation = isRelated
        if hasZoneLimits && config.zoneLimits[key.zone] != nil { zoneCounts[key.zone, default: 0] += 1 }
        counts.committed &+= 1
        committedCounts.increment(Int(key.proto))
        verdict.connectionID = packetIndex
        verdict.mark = connection.mark
        verdict.label = CTLabel(high: connection.labelHigh, low: connection.labelLow)
        verdict.alg = action.alg
        verdict.entry = Int32(truncatingIfNeeded: entry)
        return verdict
    }

    /// Deletes a stored connection. A master's death (at `deathTime`: its expiration, or the
    /// packet that removed it) is remembered and reported in `closedALGConnections`.
    func remove(_ entry: Int, hash: UInt64, deathTime: UInt64) {
        let zone = store.entries[entry].key.zone
        if store.entries[entry].alg != .none {
            let dead = DeadMaster(id: store.entries[entry].id, key: store.entries[entry].key, deathTime: deathTime)
            deadMasters[dead.id] = deathTime
            closedALGConnections.append(dead)
            hasClosedALGConnections = true
        }
        index.remove(hash: hash, entry: entry)
        store.free(entry)
        if hasZoneLimits && config.zoneLimits[zone] != nil { zoneCounts[zone, default: 1] -= 1 }
    }

    /// Records a stored connection's new timeout class, after its new expiration was set with
    /// that class's timeout (`ConnectionStore.classChanged`: the entry is relinked only when its
    /// list would reach it too late).
    ///
    /// Most changes are decided on the entry's first line. Every listing was made at a trace
    /// time no later than `now`, with the listed class's timeout (a connection's expiration is
    /// always a packet's time, at most `now`, plus its class's timeout), so the listed expiration
    /// is at most `now` plus that timeout. An expiration at or past that bound comes after the
    /// listed one: nothing to relink, and the listed expiration, on the entry's second line (a
    /// cache miss at a million flows), need not be read. Under OVS's default timeouts a short
    /// flow's changes are all of that kind: its entry stays listed under its first class (30 s),
    /// and every later class's timeout is as long or longer. The bound is exact, not a guess
    /// (the assertion checks it in debug builds; the sweeper tests fail without the timeout).
    @inline(__always)
    func classChanged(_ entry: Int, to newClass: TimeoutClass) {
        let connection = store.entries + entry
        // Wrapping: ns of trace time plus a timeout, far below 2^64 (as every expiration).
        if connection.pointee.expiration >= now &+ timeoutNanoseconds(connection.pointee.listClass) {
            assert(connection.pointee.listedExpiration <= connection.pointee.expiration,
                   "classChanged: a listing after now + its timeout")
            connection.pointee.timeoutClass = newClass
        } else {
            store.classChanged(entry, to: newClass)
        }
    }

    /// Takes up to `steps` expiry-list steps, freeing connections whose time has passed.
    /// Called with `config.sweepStepsPerPacket` before each packet: the bound on reclaim work
    /// per packet. Visiting an empty or unexpired class head costs one step too. Free while
    /// trace time is before the store's sweep horizon (no head has expired); a whole round of
    /// the classes without an expired head makes the horizon exact again.
    @inline(__always)
    public func sweep(steps: Int) {
        guard now >= store.sweepHorizon else { return }
        sweepSome(steps: steps)
    }

    func sweepSome(steps: Int) {
        var budget = steps
        let classCount = TimeoutClass.allCases.count
        while budget > 0 {
            let timeoutClass = TimeoutClass.allCases[sweepCursor]  // cursor < classCount
            if let entry = store.nextExpired(in: timeoutClass, now: now, budget: &budget) {
                remove(entry, hash: hash(store.entries[entry].key), deathTime: store.entries[entry].expiration)
                counts.expired &+= 1
                idleSweepVisits = 0
            } else {
                budget -= 1
                sweepCursor = (sweepCursor + 1) % classCount
                idleSweepVisits += 1
                if idleSweepVisits >= classCount {
                    store.recomputeSweepHorizon()
                    idleSweepVisits = 0
                    break
                }
            }
        }
        counts.sweepSteps &+= UInt64(steps - Swift.max(budget, 0))
    }

    /// Moves trace time forward to `time` and reclaims every connection expired by then
    /// (not for the packet path: its work is unbounded).
    public func expire(upTo time: UInt64) {
        if time > now { now = time }
        var budget = Int.max
        for timeoutClass in TimeoutClass.allCases {
            while let entry = store.nextExpired(in: timeoutClass, now: now, budget: &budget) {
                remove(entry, hash: hash(store.entries[entry].key), deathTime: store.entries[entry].expiration)
                counts.expired &+= 1
            }
        }
    }

    /// Removes every connection, or only those of one zone.
    public func flush(zone: UInt16? = nil) {
        for entry in 0..<store.highWater where store.entries[entry].isLive {
            let key = store.entries[entry].key
            if let zone, key.zone != zone { continue }
            remove(entry, hash: hash(key), deathTime: now)
            counts.flushed &+= 1
        }
    }

    /// Live (unexpired) connections, in entry order.
    public var connections: [Connection] {
        (0..<store.highWater).compactMap { entry in
            let c = store.entries[entry]
            return c.isLive && c.expiration > now ? c : nil
        }
    }
}

extension TimeoutClass {
    /// The partition-wide class of a TCP tracker's timeout class.
    @inlinable
    init(_ tcp: TCPTimeoutClass) {
        switch tcp {
        case .firstPacket: self = .tcpFirstPacket
        case .opening: self = .tcpOpening
        case .established: self = .tcpEstablished
        case .closing: self = .tcpClosing
        case .finWait: self = .tcpFinWait
        case .closed: self = .tcpClosed
        }
    }
}

/// A removed ALG connection: who, and from when on it is gone.
public struct DeadMaster: Sendable, Equatable {
    public var id: UInt64
    public var key: FlowKey
    public var deathTime: UInt64
}

extension ConntrackPartition {
    /// Whether the connection `id` (original key `key`) was alive at trace time `time`: stored
    /// and not expired then, or removed only later. Exact whatever the reclaim timing, so that
    /// "expectations die with their master" does not depend on when the sweeper ran.
    public func masterAlive(id: UInt64, key: FlowKey, at time: UInt64) -> Bool {
        if let (entry, _) = find(key, hash: hash(key)), store.entries[entry].id == id {
            return store.entries[entry].expiration > time
        }
        if let deathTime = deadMasters[id] { return time < deathTime }
        return false
    }

    /// Hands each connection of `closedALGConnections` to `body`, then empties the list.
    public func drainClosedALGConnections(_ body: (DeadMaster) -> Void) {
        for dead in closedALGConnections { body(dead) }
        closedALGConnections.removeAll(keepingCapacity: true)
        hasClosedALGConnections = false
    }

    /// Forgets the death times of masters removed before `time` (no question about an earlier
    /// time will come any more).
    public func forgetDeadMasters(before time: UInt64) {
        guard !deadMasters.isEmpty else { return }
        deadMasters = deadMasters.filter { $0.value >= time }
    }
}
