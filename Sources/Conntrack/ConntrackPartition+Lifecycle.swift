import PacketParsing

/// Creating, removing and reclaiming connections.
extension ConntrackPartition {
    /// A packet that found no live connection: decide whether it may start one, and commit it
    /// when asked (and when the limits allow).
    func newConnection(
        _ packet: ParsedPacket, key: FlowKey, hash: UInt64, packetIndex: UInt64, action: CTAction
    ) -> CTVerdict {
        var tcp = TCPTracker(origin: TCPPeer(), reply: TCPPeer())  // unused unless TCP
        let firstClass: TimeoutClass
        switch key.proto {
        case IPProtocol.tcp:
            guard let started = TCPTracker.start(packet) else { return .invalid(.tcpInvalidNew, zone: key.zone) }
            tcp = started
            firstClass = .tcpFirstPacket
        case IPProtocol.icmp, IPProtocol.icmpv6:
            guard ICMPTracking.mayStartConnection(packet) else { return .invalid(.icmpInvalidNew, zone: key.zone) }
            firstClass = .icmpFirst
        default:
            firstClass = .otherFirst
        }
        let expected = expectations.peek(key, time: now)
        var verdict = CTVerdict(state: expected == nil ? [.tracked, .new] : [.tracked, .new, .related], zone: key.zone)
        if let expected { verdict.masterID = expected.masterID }
        guard action.commit else { return verdict }

        if let limit = config.zoneLimits[key.zone], zoneCounts[key.zone, default: 0] >= limit {
            stats.refusedByZoneLimit &+= 1
            verdict.refusedByLimit = true
            return verdict
        }
        // A related connection starts with its master's mark and label (as in OVS); the
        // commit's own mark/label then apply on top.
        let inheritedMark = expected?.mark ?? 0
        let label = action.label ?? expected?.label ?? .zero
        let connection = Connection(
            key: key, tcp: tcp, expiration: now &+ config.timeouts[firstClass], listedExpiration: 0,
            id: packetIndex, masterID: expected?.masterID ?? Connection.noID,
            labelHigh: label.high, labelLow: label.low,
            mark: (inheritedMark & ~action.markMask) | (action.mark & action.markMask), previous: 0, next: 0,
            timeoutClass: firstClass, alg: action.alg, otherState: .first)
        guard let entry = store.allocate(connection) else {
            stats.refusedByLimit &+= 1
            verdict.refusedByLimit = true
            return verdict
        }
        index.insert(hash: hash, entry: entry)
        if expected != nil { _ = expectations.consume(key, time: now) }
        if config.zoneLimits[key.zone] != nil { zoneCounts[key.zone, default: 0] += 1 }
        stats.committed &+= 1
        stats.committedByProtocol[Int(key.proto)] &+= 1
        verdict.connectionID = packetIndex
        verdict.mark = connection.mark
        verdict.label = CTLabel(high: connection.labelHigh, low: connection.labelLow)
        verdict.alg = action.alg
        verdict.entry = Int32(truncatingIfNeeded: entry)
        return verdict
    }

    /// Deletes a stored connection; a master's expectations die with it.
    func remove(_ entry: Int, hash: UInt64) {
        let zone = store.entries[entry].key.zone
        if store.entries[entry].alg != .none {
            expectations.removeAll(ofMaster: store.entries[entry].id)
            closedALGConnections.append(store.entries[entry].id)
        }
        index.remove(hash: hash, entry: entry)
        store.free(entry)
        if config.zoneLimits[zone] != nil { zoneCounts[zone, default: 1] -= 1 }
    }

    /// Takes up to `steps` expiry-list steps, freeing connections whose time has passed.
    /// Called with `config.sweepStepsPerPacket` before each packet: the bound on reclaim work
    /// per packet. Visiting an empty or unexpired class head costs one step too.
    public func sweep(steps: Int) {
        expectations.expire(time: now)
        var budget = steps
        let classCount = TimeoutClass.allCases.count
        while budget > 0 {
            let timeoutClass = TimeoutClass(rawValue: UInt8(sweepCursor))!  // cursor < classCount
            if let entry = store.nextExpired(in: timeoutClass, now: now, budget: &budget) {
                remove(entry, hash: hash(store.entries[entry].key))
                stats.expired &+= 1
            } else {
                budget -= 1
                sweepCursor = (sweepCursor + 1) % classCount
            }
        }
        stats.sweepSteps &+= UInt64(steps)
    }

    /// Moves trace time forward to `time` and reclaims every connection expired by then
    /// (not for the packet path: its work is unbounded).
    public func expire(upTo time: UInt64) {
        if time > now { now = time }
        var budget = Int.max
        for timeoutClass in TimeoutClass.allCases {
            while let entry = store.nextExpired(in: timeoutClass, now: now, budget: &budget) {
                remove(entry, hash: hash(store.entries[entry].key))
                stats.expired &+= 1
            }
        }
    }

    /// Removes every connection, or only those of one zone.
    public func flush(zone: UInt16? = nil) {
        for entry in 0..<store.highWater where store.entries[entry].id != Connection.noID {
            let key = store.entries[entry].key
            if let zone, key.zone != zone { continue }
            remove(entry, hash: hash(key))
            stats.flushed &+= 1
        }
    }

    /// Live (unexpired) connections, in entry order.
    public var connections: [Connection] {
        (0..<store.highWater).compactMap { entry in
            let c = store.entries[entry]
            return c.id != Connection.noID && c.expiration > now ? c : nil
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
