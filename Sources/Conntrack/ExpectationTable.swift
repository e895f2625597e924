import PacketParsing

/// The expectations one partition owns, with their limits and expiry in trace time.
///
/// An expectation is consumed by the first committed connection that matches it, dies with its
/// master, expires (default 300 s of trace time, as Linux), and a master holding more than
/// `perMasterLimit` loses its oldest one. Expectations are few (FTP/TFTP announcements), so a
/// dictionary is fine; the per-packet cost when the table is empty is one `isEmpty` check.
public final class ExpectationTable {
    public struct Limits: Sendable, Equatable {
        /// Most expectations in this table.
        public var maxExpectations: Int
        /// Most live expectations per master; a new one evicts that master's oldest.
        /// (An expectation's lifetime is set by the ALG that announces it: `ALGEngine.Policy`.)
        public var perMasterLimit: Int

        public init(maxExpectations: Int = 65_536, perMasterLimit: Int = 32) {
            self.maxExpectations = maxExpectations
            self.perMasterLimit = perMasterLimit
        }
    }

    public let limits: Limits
    public private(set) var stats = ExpectationStats()
    private var byKey: [ExpectationKey: Expectation] = [:]
    /// Each master's expectation keys, oldest first.
    private var byMaster: [UInt64: [ExpectationKey]] = [:]
    /// Every expectation created, in creation order (so in expiration order, since all share
    /// one timeout): `expire` pops from the front. Entries already gone are skipped.
    private var expiryQueue: [(expiration: UInt64, key: ExpectationKey)] = []
    private var expiryQueueHead = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public var count: Int { byKey.count }
    @inlinable public var isEmpty: Bool { count == 0 }

    public enum CreateResult: Equatable, Sendable {
        case created, duplicate, clash, refusedTableFull
    }

    /// Adds an expectation announced at trace time `time` (`expiration` already set).
    @discardableResult
    public func create(_ expectation: Expectation, time: UInt64) -> CreateResult {
        if let existing = byKey[expectation.key], existing.expiration > time {
            if existing.masterID == expectation.masterID {
                stats.duplicates += 1
                return .duplicate
            }
            stats.clashes += 1
            return .clash
        } else if byKey[expectation.key] != nil {
            remove(expectation.key)
            stats.expired += 1
        }
        var keys = byMaster[expectation.masterID, default: []]
        if keys.count >= limits.perMasterLimit, let oldest = keys.first {
            keys.removeFirst()
            byKey[oldest] = nil
            stats.evictedByMasterLimit += 1
        }
        if byKey.count >= limits.maxExpectations {
            stats.refusedByTableLimit += 1
            if keys.isEmpty { byMaster[expectation.masterID] = nil } else { byMaster[expectation.masterID] = keys }
            return .refusedTableFull
        }
        keys.append(expectation.key)
        byMaster[expectation.masterID] = keys
        byKey[expectation.key] = expectation
        expiryQueue.append((expectation.expiration, expectation.key))
        nextExpiration = Swift.min(nextExpiration, expectation.expiration)
        stats.created += 1
        return .created
    }

    /// The live expectation a new connection's first packet matches, without consuming it.
    @inlinable
    public func peek(_ key: FlowKey, time: UInt64) -> Expectation? {
        if isEmpty { return nil }
        return find(ExpectationKey(firstPacketOf: key), time: time)
    }

    /// The live expectation a committed new connection matches, removed from the table.
    public func consume(_ key: FlowKey, time: UInt64) -> Expectation? {
        if isEmpty { return nil }
        let wanted = ExpectationKey(firstPacketOf: key)
        guard let expectation = find(wanted, time: time) else { return nil }
        remove(wanted)
        stats.matched += 1
        return expectation
    }

    /// Drops every expectation of a master (the master connection went away).
    public func removeAll(ofMaster masterID: UInt64) {
        guard let keys = byMaster.removeValue(forKey: masterID) else { return }
        for key in keys where byKey.removeValue(forKey: key) != nil { stats.orphaned += 1 }
    }

    /// The earliest expiration still queued (`UInt64.max`: none): `expire` has nothing to do
    /// before it.
    @usableFromInline private(set) var nextExpiration = UInt64.max

    /// Drops expectations whose time has passed; O(1) per expectation dropped or skipped, and a
    /// single comparison when none is due.
    @inlinable @inline(__always)
    public func expire(time: UInt64) {
        if time >= nextExpiration { expireDue(time: time) }
    }

    @usableFromInline func expireDue(time: UInt64) {
        defer { nextExpiration = expiryQueueHead < expiryQueue.count ? expiryQueue[expiryQueueHead].expiration : .max }
        while expiryQueueHead < expiryQueue.count, expiryQueue[expiryQueueHead].expiration <= time {
            let (expiration, key) = expiryQueue[expiryQueueHead]
            expiryQueueHead += 1
            if let live = byKey[key], live.expiration == expiration {
                remove(key)
                stats.expired += 1
            }
        }
        if expiryQueueHead > 1024 && expiryQueueHead * 2 > expiryQueue.count {
            expiryQueue.removeFirst(expiryQueueHead)
            expiryQueueHead = 0
        }
    }

    /// Live expectations, oldest announcement first.
    public var all: [Expectation] {
        byKey.values.sorted { ($0.announcedAt, $0.key.dstPort) < ($1.announcedAt, $1.key.dstPort) }
    }

    @usableFromInline
    func find(_ key: ExpectationKey, time: UInt64) -> Expectation? {
        guard let expectation = byKey[key] else { return nil }
        return expectation.expiration > time ? expectation : nil
    }

    private func remove(_ key: ExpectationKey) {
        guard let expectation = byKey.removeValue(forKey: key) else { return }
        if var keys = byMaster[expectation.masterID], let i = keys.firstIndex(of: key) {
            keys.remove(at: i)
            byMaster[expectation.masterID] = keys.isEmpty ? nil : keys
        }
    }

    /// Expectation lines like `conntrack -L expect`, sorted:
    /// `tcp,src=10.1.1.2,dst=10.1.1.1,sport=*,dport=40000,master=12,helper=ftp,announced=15`.
    public func dump() -> [String] {
        byKey.values.map { e in
            "\(e.key),master=\(e.masterID),helper=\(e.alg.name),announced=\(e.announcedAt)"
        }.sorted()
    }
}
