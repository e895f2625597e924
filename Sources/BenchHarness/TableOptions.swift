import ApplicationGateways
import ArgumentParser
import Conntrack
import Datapath

/// Table sizes, timeouts and policies shared by the commands that run conntrack.
struct TableOptions: ParsableArguments {
    @Option(name: .customLong("max-conns"), help: "Connection limit of the table.")
    var maxConns = 1_000_000

    @Option(name: .customLong("max-expectations"), help: "Expectation limit of the table.")
    var maxExpectations = 65_536

    @Option(name: .customLong("max-expectations-per-master"), help: "Live expectations one control connection may hold.")
    var perMasterLimit = 32

    @Option(name: .customLong("zone-limit"), help: "Per-zone connection limit, ZONE=N (repeatable).")
    var zoneLimits: [String] = []

    @Option(name: .customLong("timeout"), help: "Timeout in seconds by OVS policy name, e.g. tcp_established=3600 (repeatable).")
    var timeouts: [String] = []

    @Option(help: "Checksums: off, count (default: counted, never +inv), enforce (bad ones are +inv).")
    var checksums = ChecksumPolicy.count.rawValue

    @Flag(name: .customLong("verify-checksums"), help: "Same as --checksums enforce.")
    var verifyChecksums = false

    @Flag(name: .customLong("reject-privileged-ports"), help: "FTP: refuse announcements of ports below 1024.")
    var rejectPrivilegedPorts = false

    @Flag(name: .customLong("no-alg"), help: "Commit without the FTP/TFTP helpers (OVS: helpers off).")
    var noALG = false

    @Option(name: .customLong("look-ahead"),
            help: "How replay loops walk a table too large for the caches: auto (measure which is faster, the default), ring (parse ahead, prefetch slots and entries), direct (parse each packet at its turn).")
    var lookAhead = "auto"

    @Flag(name: .customLong("lazy-tables"),
          help: "Fault connection entries in as connections arrive, on small pages (default: the whole table at start-up, on huge pages, when its entries fit in half the memory available).")
    var lazyTables = false

    /// Whether tables for `maxConnections` may be faulted in at start-up: their entries take at
    /// most half the memory available now (unknown: yes). A limit sized far above the machine
    /// (a sweep, a hostile option) then runs with lazily faulted tables, as before
    /// preallocation, instead of being killed for memory before the first packet.
    static func preallocationFits(maxConnections: Int, available: UInt64?) -> Bool {
        guard let available else { return true }
        let (entries, overflow) = maxConnections.multipliedReportingOverflow(by: MemoryLayout<Connection>.stride)
        return !overflow && UInt64(entries) <= available / 2
    }

    struct Settings: Sendable {
        var conntrack: ConntrackConfig
        var expectations: ExpectationTable.Limits
        var alg: ALGEngine.Policy
        var algsEnabled: Bool

        /// The settings of one of `shards` shards: the connection and expectation limits are
        /// split evenly (rounded up), so the whole datapath holds what was asked for.
        /// The settings of one of `shards` shards, `perThread` of which share a thread (and its
        /// caches: the table size from which look-ups prefetch is that thread's share).
        func dividedAmong(_ shards: Int, perThread: Int = 1) -> Settings {
            var each = self
            each.conntrack.prefetchFromConnections = conntrack.prefetchFromConnections / Swift.max(perThread, 1)
            each.conntrack.maxConnections = (conntrack.maxConnections + shards - 1) / shards
            each.expectations.maxExpectations = (expectations.maxExpectations + shards - 1) / shards
            return each
        }

        func makePipeline() -> DefaultPipeline {
            DefaultPipeline(config: conntrack, expectationLimits: expectations, algPolicy: alg, algsEnabled: algsEnabled)
        }
    }

    func settings() throws -> Settings {
        guard maxConns > 0 else { throw ValidationError("--max-conns must be positive") }
        guard let checksumPolicy = ChecksumPolicy(rawValue: checksums) else {
            throw ValidationError("--checksums must be off, count or enforce (got '\(checksums)')")
        }
        var policy = TimeoutPolicy.ovsDefaults
        for item in timeouts {
            let parts = item.split(separator: "=")
            guard parts.count == 2, let seconds = UInt64(parts[1]), policy.set(String(parts[0]), seconds: seconds) else {
                throw ValidationError("--timeout \(item): expected NAME=SECONDS with NAME one of "
                                      + TimeoutClass.allCases.map(\.name).joined(separator: ", "))
            }
        }
        var zones: [UInt16: Int] = [:]
        for item in zoneLimits {
            let parts = item.split(separator: "=")
            guard parts.count == 2, let zone = UInt16(parts[0]), let limit = Int(parts[1]), limit >= 0 else {
                throw ValidationError("--zone-limit \(item): expected ZONE=N, e.g. 5=1000")
            }
            zones[zone] = limit
        }
        let prefetchFrom: Int
        switch lookAhead {
        case "auto": prefetchFrom = ConntrackConfig.defaultPrefetchFromConnections
        case "ring": prefetchFrom = 0
        case "direct": prefetchFrom = Int.max
        default: throw ValidationError("--look-ahead must be auto, ring or direct (got '\(lookAhead)')")
        }
        let conntrack = ConntrackConfig(maxConnections: maxConns, zoneLimits: zones, timeouts: policy,
                                        checksums: verifyChecksums ? .enforce : checksumPolicy,
                                        preallocate: !lazyTables && TableOptions.preallocationFits(
                                            maxConnections: maxConns, available: ResourceUsage.availableMemoryBytes),
                                        prefetchFromConnections: prefetchFrom)
        return Settings(
            conntrack: conntrack,
            expectations: ExpectationTable.Limits(maxExpectations: maxExpectations, perMasterLimit: perMasterLimit),
            alg: ALGEngine.Policy(rejectPrivilegedPorts: rejectPrivilegedPorts),
            algsEnabled: !noALG)
    }
}
