#if canImport(Glibc)
import Glibc
#endif

/// What conntrack does with IPv4 header and TCP/UDP/ICMP checksums.
public enum ChecksumPolicy: String, Sendable, CaseIterable {
    /// Not looked at.
    case off
    /// Verified and counted (`ConntrackStats.badChecksums`), never +inv. The default: captures
    /// taken on a sending host carry checksums that the NIC had not filled in yet.
    case count
    /// Verified; a bad checksum makes the packet +inv, as OVS and Linux do.
    case enforce
}

/// The settings of one conntrack partition, fixed at creation.
public struct ConntrackConfig: Sendable {
    /// Most connections the partition holds; a commit beyond it is refused and counted.
    public var maxConnections: Int
    /// Most connections per zone, for the zones that have a limit.
    public var zoneLimits: [UInt16: Int]
    public var timeouts: TimeoutPolicy
    public var checksums: ChecksumPolicy
    /// Expiry-list steps the partition may take per packet to reclaim expired connections.
    public var sweepStepsPerPacket: Int
    /// Seed of the symmetric flow hash; every partition of a datapath uses the same seed.
    public var hashSeed: UInt64
    /// Fault the whole connection store in when the partition is made, on huge pages, instead
    /// of page by page as connections arrive: no page fault on the packet path and a fraction
    /// of the TLB misses, for the memory of a full table from the start (a datapath sized for
    /// deployment). Off by default: a partition made for a handful of connections (tests,
    /// tools) would otherwise pay for its whole limit.
    public var preallocate: Bool
    /// Live connections from which a replay loop may prefetch each packet's index slot and entry
    /// ahead of its turn (`ConntrackPartition.lookAheadPays`); from there on it measures whether
    /// doing so is faster (`LookAheadChooser`). Below it the table sits in the caches, and the
    /// hints cost more instructions than the misses they hide. The default is the connections
    /// whose entries fill the L2 cache (8,192 with 1 MiB). Whether the hints pay above it
    /// depends on the traffic: the anchor trace's 10,000 connections, open ~1,000 at a time,
    /// ran 16% slower with them; 20,000 open at once, 30-45% faster (docs/PERFORMANCE.md,
    /// session 10). 0: always prefetch, without measuring.
    public var prefetchFromConnections: Int

    /// `prefetchFromConnections`'s default for this machine's L2 cache.
    public static let defaultPrefetchFromConnections: Int = {
        #if canImport(Glibc)
        let reported = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        #else
        let reported = -1
        #endif
        let l2 = reported > 0 ? reported : 1 << 20
        return l2 / MemoryLayout<Connection>.stride
    }()

    public init(
        maxConnections: Int = 1_000_000,
        zoneLimits: [UInt16: Int] = [:],
        timeouts: TimeoutPolicy = .ovsDefaults,
        checksums: ChecksumPolicy = .count,
        sweepStepsPerPacket: Int = 4,
        hashSeed: UInt64 = 0x5EED_C0DE_F00D_CAFE,
        preallocate: Bool = false,
        prefetchFromConnections: Int = ConntrackConfig.defaultPrefetchFromConnections
    ) {
        self.maxConnections = maxConnections
        self.zoneLimits = zoneLimits
        self.timeouts = timeouts
        self.checksums = checksums
        self.sweepStepsPerPacket = sweepStepsPerPacket
        self.hashSeed = hashSeed
        self.preallocate = preallocate
        self.prefetchFromConnections = prefetchFromConnections
    }
}

/// A 128-bit ct_label.
public struct CTLabel: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64
    @inlinable public init(high: UInt64 = 0, low: UInt64 = 0) { self.high = high; self.low = low }
    @inlinable public static var zero: CTLabel { CTLabel() }
}

/// What a `ct(...)` action asks of conntrack for one packet.
public struct CTAction: Sendable, Equatable {
    public var zone: UInt16
    /// Store a new connection (and set mark/label on it or on an existing one).
    public var commit: Bool
    /// ALG for the connection, honoured only on the commit that creates it.
    public var alg: ALGKind
    /// `ct_mark = (ct_mark & ~markMask) | (mark & markMask)` on commit; mask 0 leaves it.
    public var mark: UInt32
    public var markMask: UInt32
    /// ct_label set on commit when non-nil.
    public var label: CTLabel?

    public init(zone: UInt16 = 0, commit: Bool = false, alg: ALGKind = .none,
                mark: UInt32 = 0, markMask: UInt32 = 0, label: CTLabel? = nil) {
        self.zone = zone
        self.commit = commit
        self.alg = alg
        self.mark = mark
        self.markMask = markMask
        self.label = label
    }
}

/// What conntrack answered for one packet.
public struct CTVerdict: Sendable, Equatable {
    public var state: CTState
    public var zone: UInt16
    /// The connection's id (trace index of its committing packet), or `Connection.noID`.
    public var connectionID: UInt64
    /// The master connection's id for related connections, or `Connection.noID`.
    public var masterID: UInt64
    public var mark: UInt32
    public var label: CTLabel
    /// Set when the packet is +inv.
    public var invalidReason: InvalidReason?
    /// The packet asked for a commit that the connection limit refused.
    public var refusedByLimit: Bool
    /// The connection's ALG, so the datapath knows to run the helper.
    public var alg: ALGKind
    /// The connection's entry in the partition (for ALG follow-up), or -1.
    public var entry: Int32
    /// This packet committed a related connection: its expectation must now be consumed.
    public var consumedExpectation: Bool

    @inlinable
    public init(state: CTState, zone: UInt16) {
        self.state = state
        self.zone = zone
        connectionID = Connection.noID
        masterID = Connection.noID
        mark = 0
        label = .zero
        invalidReason = nil
        refusedByLimit = false
        alg = .none
        entry = -1
        consumedExpectation = false
    }

    /// The verdict for a packet conntrack cannot track: +trk+inv with a reason.
    @inlinable
    public static func invalid(_ reason: InvalidReason, zone: UInt16) -> CTVerdict {
        var verdict = CTVerdict(state: [.tracked, .invalid], zone: zone)
        verdict.invalidReason = reason
        return verdict
    }
}
