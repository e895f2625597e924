import ApplicationGateways
import Conntrack
import Datapath
import PacketParsing

/// The figures of one `ctbench run`, under stable keys: printed as a terminal table, or as one
/// JSON object with `--json` (see README, "JSON keys").
struct RunReport: Codable {
    var version = CTBench.version
    var traces: [String]
    var packets: UInt64
    var bytes: UInt64
    var loops: Int
    var threads: Int
    var batch: Int?
    var seconds: Double
    var pps: Double
    /// With `--passes N` (N > 1): every pass's packets per second, in pass order; `seconds` and
    /// the other figures are the median pass's. Absent for one pass.
    var passesPPS: [Double]?
    var gbps: Double
    var mode: String
    var parse: [String: UInt64]
    var parseMalformed: UInt64
    var states: [String: UInt64]
    var statesOVS: [String: UInt64]
    var connections: Connections
    var invalid: [String: UInt64]
    var tcpInvalid: [String: UInt64]
    var expectations: Expectations
    var alg: ALG
    var forwarded: UInt64
    var dropped: UInt64
    /// With `--flows`: the flow file, and packets per final action (`output:1`, `normal`,
    /// `drop`, ...; see README, "Verdict lines"). Absent without a flow table.
    var flows: String?
    var actions: [String: UInt64]?
    var shards: Shards
    var crossShardMessages: CrossShard
    /// Dispatch-to-verdict latency per packet, and per-shard batch service time (nil: not measured).
    var latencyNs: Percentiles?
    var batchServiceNs: Percentiles?
    /// Packets the walks took through the look-ahead's ring (parsed ahead, slot and entry
    /// prefetched) and directly (parsed at their turn); optional so that results written
    /// before it still decode.
    var lookAhead: LookAheadWays?

    struct LookAheadWays: Codable {
        var ringPackets: UInt64
        var directPackets: UInt64

        /// The ring's share of the packets (0 when none were walked).
        var ringShare: Double { Double(ringPackets) / Double(Swift.max(ringPackets + directPackets, 1)) }

        enum CodingKeys: String, CodingKey {
            case ringPackets = "ring_packets", directPackets = "direct_packets"
        }
    }

    /// A latency distribution's summary, ns.
    struct Percentiles: Codable {
        var p50: UInt64
        var p90: UInt64
        var p99: UInt64
        var p999: UInt64
        var max: UInt64
        var count: UInt64
    }
    var peakRSSBytes: UInt64
    var traceBytes: UInt64
    var skippedInput: Bool
    /// The peak RSS ctbench predicted from the table sizes and the trace, by component.
    var memoryPrediction: MemoryPrediction
    /// Whether the measured peak stayed within it.
    var peakRSSWithinPrediction: Bool

    struct Connections: Codable {
        var committed: UInt64
        var live: Int
        var expired: UInt64
        var replaced: UInt64
        var refusedByLimit: UInt64
        var refusedByZoneLimit: UInt64
        var maxConnections: Int
        var bytesPerSlot: Double
        var committedByProtocol: [String: UInt64]
        var badChecksums: UInt64
    }

    struct Shards: Codable {
        var packets: [UInt64]
        var liveConnections: [Int]
        var parkedPackets: UInt64
        var windows: UInt64
        /// Windows that needed a phase 2 (parked packets or deferred events).
        var phaseTwoWindows: UInt64
        /// Share of worker-thread time spent waiting at the window barrier (0 with one shard).
        var barrierWait: Double
        /// The part of it in waits of 50 µs or more (a worker descheduled, not the window's imbalance).
        var longBarrierWait: Double
        /// Each worker's share of its own time spent waiting (empty with one shard): a large gap
        /// between them means one vCPU ran slower than the other for the run.
        var barrierWaitByWorker: [Double]
        /// Barrier waits that ended asleep (the spin ran out: a worker was descheduled or far behind).
        var barrierSleeps: UInt64
        /// Shard windows each worker ran for another worker (`--shards-per-thread` above 1: a
        /// shard no one had started); nil in reports from before there were such.
        var shardWindowsTakenByWorker: [UInt64]?

        /// Busiest shard's packets over the mean (1.0 = perfectly even).
        var imbalance: Double {
            let total = packets.reduce(0, +)
            guard total > 0, let most = packets.max() else { return 1 }
            return Double(most) * Double(packets.count) / Double(total)
        }

        enum CodingKeys: String, CodingKey {
            case packets, liveConnections = "live_connections", parkedPackets = "parked_packets", windows
            case phaseTwoWindows = "phase_two_windows", barrierWait = "barrier_wait_share"
            case longBarrierWait = "long_barrier_wait_share"
            case barrierWaitByWorker = "barrier_wait_share_by_worker"
            case barrierSleeps = "barrier_sleeps"
            case shardWindowsTakenByWorker = "shard_windows_taken_by_worker"
        }
    }

    struct CrossShard: Codable {
        var total: UInt64
        var expectations: UInt64
        var lookups: UInt64
        var masterChecks: UInt64
        var masterDeaths: UInt64
        var perPacket: Double

        enum CodingKeys: String, CodingKey {
            case total, expectations, lookups, masterChecks = "master_checks", masterDeaths = "master_deaths"
            case perPacket = "per_packet"
        }
    }

    struct Expectations: Codable {
        var live: Int
        var created: UInt64
        var matched: UInt64
        var expired: UInt64
        var orphaned: UInt64
        var duplicates: UInt64
        var clashes: UInt64
        var evictedByMasterLimit: UInt64
        var refusedByTableLimit: UInt64
    }

    struct ALG: Codable {
        var ftpAnnouncements: [String: UInt64]
        var ftpRejected: [String: UInt64]
        var tftpRequests: UInt64
        var tftpMalformed: UInt64
    }

    enum CodingKeys: String, CodingKey {
        case version, traces, packets, bytes, loops, threads, batch, seconds, pps, gbps, mode, parse, states, shards
        case crossShardMessages = "cross_shard_messages", latencyNs = "latency_ns", batchServiceNs = "batch_service_ns"
        case lookAhead = "look_ahead", passesPPS = "passes_pps"
        case parseMalformed = "parse_malformed", statesOVS = "states_ovs", connections, invalid
        case tcpInvalid = "tcp_invalid", expectations, alg, forwarded, dropped, flows, actions
        case peakRSSBytes = "peak_rss_bytes", traceBytes = "trace_bytes", skippedInput = "skipped_input"
        case memoryPrediction = "memory_prediction", peakRSSWithinPrediction = "peak_rss_within_prediction"
    }
}

extension RunReport.Connections {
    enum CodingKeys: String, CodingKey {
        case committed, live, expired, replaced, refusedByLimit = "refused_by_limit"
        case refusedByZoneLimit = "refused_by_zone_limit", maxConnections = "max_connections"
        case bytesPerSlot = "bytes_per_slot", committedByProtocol = "committed_by_protocol"
        case badChecksums = "bad_checksums"
    }
}

extension RunReport.Expectations {
    enum CodingKeys: String, CodingKey {
        case live, created, matched, expired, orphaned, duplicates, clashes
        case evictedByMasterLimit = "evicted_by_master_limit", refusedByTableLimit = "refused_by_table_limit"
    }
}

extension RunReport.ALG {
    enum CodingKeys: String, CodingKey {
        case ftpAnnouncements = "ftp_announcements", ftpRejected = "ftp_rejected"
        case tftpRequests = "tftp_requests", tftpMalformed = "tftp_malformed"
    }
}

extension RunReport {
    /// Non-zero entries of a counter array, keyed by name.
    static func named<T>(_ counts: [UInt64], _ cases: [T], _ name: (T) -> String) -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for (i, c) in cases.enumerated() where i < counts.count && counts[i] != 0 { out[name(c)] = counts[i] }
        return out
    }

    static func protocolName(_ proto: Int) -> String {
        switch UInt8(proto) {
        case IPProtocol.tcp: "tcp"
        case IPProtocol.udp: "udp"
        case IPProtocol.icmp: "icmp"
        case IPProtocol.icmpv6: "icmpv6"
        default: "proto_\(proto)"
        }
    }
}
