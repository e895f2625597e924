import ApplicationGateways
import Conntrack
import Datapath
import PacketParsing
import Testing
import TraceIO
import TraceSynthesis

/// How an expectation ends: consumed, expired, with its master, evicted; and peeking.
@Suite("Expectation lifecycle through the pipeline")
struct ExpectationLifecycleTests {
    static let client = Endpoint(ip: "10.1.1.1", port: 40_000)
    static let server = Endpoint(ip: "10.1.1.2", port: 21)
    static let listener = client.with(port: 50_000)
    static let second: UInt64 = 1_000_000_000

    /// Consumed by the first matching connection: a second one to the same port is only +new.
    @Test func consumedByTheFirstConnection() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        ftp.client("PORT \(commaForm(Self.listener))\r\n", into: &b)
        let first = dataConnection(from: Self.server.with(port: 20), to: Self.listener, into: &b)
        let second = dataConnection(from: Self.server.with(port: 2_020), to: Self.listener, into: &b)
        let third = dataConnection(from: Self.server.with(port: 20), to: Self.listener, into: &b)  // same 5-tuple again
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[first].verdict.state == newRelated)
        #expect(packets[second].verdict == PacketVerdict(state: plainNew, connectionID: UInt64(second)))
        #expect(packets[third].verdict.state == plainNew)
        #expect(!packets[third].verdict.state.contains(.related))
        let stats = pipeline.partition.expectations.stats
        #expect(stats.created == 1 && stats.matched == 1)
        #expect(pipeline.partition.expectations.isEmpty)
    }

    /// Expires after 300 s of trace time: a SYN at +299 s is related, at +301 s only new.
    @Test(arguments: [(299, true), (301, false)])
    func expiresAfterItsTimeout(seconds: Int, related: Bool) {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        ftp.client("PORT \(commaForm(Self.listener))\r\n", into: &b)
        b.advanceClock(byNanos: UInt64(seconds) * Self.second)
        let syn = dataConnection(from: Self.server.with(port: 20), to: Self.listener, into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[syn].verdict.state == (related ? newRelated : plainNew), "+\(seconds) s: \(packets[syn].verdict.state)")
        #expect(pipeline.partition.expectations.stats.expired == (related ? 0 : 1))
        #expect(pipeline.partition.expectations.stats.matched == (related ? 1 : 0))
        #expect(pipeline.partition.expectations.isEmpty)
    }

    /// The ALG policy's expectation timeout sets the lifetime.
    @Test func algPolicyTimeoutSetsTheLifetime() {
        let pipeline = DefaultPipeline(algPolicy: ALGEngine.Policy(expectationTimeoutSeconds: 10))
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        ftp.client("PORT \(commaForm(Self.listener))\r\n", into: &b)
        b.advanceClock(byNanos: 20 * Self.second)
        let syn = dataConnection(from: Self.server.with(port: 20), to: Self.listener, into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[syn].verdict.state == plainNew)
        #expect(pipeline.partition.expectations.stats.expired == 1)
    }

    /// Dies with its master: the control connection is reset, its close timeout (30 s) passes
    /// and it is reclaimed; the data SYN after that is only +new, the expectation orphaned.
    @Test func diesWithItsMasterAfterReset() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        ftp.client("PORT \(commaForm(Self.listener))\r\n", into: &b)
        ftp.control.reset(fromClient: true, into: &b)
        b.advanceClock(byNanos: 60 * Self.second)
        // Unrelated traffic gives the sweeper (a few steps per packet) time to reclaim the master.
        for i in 0..<40 {
            b.append(PacketBuilder.udp(from: Endpoint(ip: "10.7.0.1", port: UInt16(1_000 + i)),
                                       to: Endpoint(ip: "10.7.0.2", port: 53), payload: [1, 2, 3]))
        }
        let syn = dataConnection(from: Self.server.with(port: 20), to: Self.listener, into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[syn].verdict == PacketVerdict(state: plainNew, connectionID: UInt64(syn)), "\(packets[syn].verdict.state)")
        #expect(pipeline.partition.expectations.stats.orphaned == 1)
        #expect(pipeline.partition.expectations.stats.expired == 0)
        #expect(pipeline.partition.expectations.isEmpty)
    }

    /// The master has expired (30 s after its RST) but no sweep has reclaimed it yet when the
    /// data SYN comes: conntrack treats an expired connection as gone, so its expectation must
    /// not make the SYN related either.
    @Test func expiredButUnsweptMasterRelatesNothing() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        ftp.client("PORT \(commaForm(Self.listener))\r\n", into: &b)
        ftp.control.reset(fromClient: true, into: &b)
        b.advanceClock(byNanos: 60 * Self.second)
        let syn = dataConnection(from: Self.server.with(port: 20), to: Self.listener, into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[syn].verdict.state == plainNew, "data SYN 60 s after the master's RST: \(packets[syn].verdict.state) master \(packets[syn].verdict.masterID)")
    }

    /// The master expires in the established state (idle past its timeout, shortened here)
    /// before the data connection: only +new.
    @Test func diesWithItsMasterOnIdleExpiry() {
        var timeouts = TimeoutPolicy.ovsDefaults
        timeouts[.tcpEstablished] = 100 * Self.second
        let pipeline = DefaultPipeline(config: ConntrackConfig(timeouts: timeouts))
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        ftp.client("PORT \(commaForm(Self.listener))\r\n", into: &b)
        b.advanceClock(byNanos: 150 * Self.second)
        for i in 0..<40 {
            b.append(PacketBuilder.udp(from: Endpoint(ip: "10.7.0.1", port: UInt16(1_000 + i)),
                                       to: Endpoint(ip: "10.7.0.2", port: 53), payload: [1]))
        }
        let syn = dataConnection(from: Self.server.with(port: 20), to: Self.listener, into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[syn].verdict.state == plainNew)
        #expect(pipeline.partition.expectations.stats.orphaned == 1)
    }

    /// Per-master limit: 33 PORTs with the default limit of 32 evict the oldest.
    @Test func perMasterLimitEvictsTheOldest() {
        let pipeline = DefaultPipeline()
        #expect(pipeline.partition.expectations.limits.perMasterLimit == 32)
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        let ports = (0..<33).map { UInt16(50_000 + $0) }
        for p in ports {
            ftp.client("PORT \(commaForm(Self.client.with(port: p)))\r\n", into: &b)
            ftp.server("200 PORT command successful.\r\n", into: &b)
        }
        // Check the table before any data connection consumes anything.
        let trace = b.makeTrace()
        let packets = replay(trace, through: pipeline)
        #expect(packets.allSatisfy { !$0.verdict.state.contains(.invalid) })
        let table = pipeline.partition.expectations
        #expect(table.stats.created == 33)
        #expect(table.stats.evictedByMasterLimit == 1)
        #expect(table.count == 32)
        #expect(Set(table.all.map(\.key.dstPort)) == Set(ports.dropFirst()))
        #expect(table.all.allSatisfy { $0.masterID == ftp.controlID })

        // And through the pipeline: the oldest port's data SYN is only new, the next one related.
        let pipeline2 = DefaultPipeline()
        let oldest = dataConnection(from: Self.server.with(port: 20), to: Self.client.with(port: ports[0]), into: &b)
        let next = dataConnection(from: Self.server.with(port: 20), to: Self.client.with(port: ports[1]), into: &b)
        let newest = dataConnection(from: Self.server.with(port: 20), to: Self.client.with(port: ports[32]), into: &b)
        let all = replay(b.makeTrace(), through: pipeline2)
        #expect(all[oldest].verdict.state == plainNew)
        #expect(all[next].verdict.state == newRelated)
        #expect(all[newest].verdict.state == newRelated)
        #expect(pipeline2.partition.expectations.stats.evictedByMasterLimit == 1)
    }

    /// A lookup without commit peeks: +rel, nothing consumed; the commit then consumes.
    @Test func nonCommitLookupPeeksWithoutConsuming() throws {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        ftp.client("PORT \(commaForm(Self.listener))\r\n", into: &b)
        let setup = b.count
        var data = TCPConversation(client: Self.server.with(port: 20), server: Self.listener)
        let synFrame = data.segment(fromClient: true, flags: .syn, options: TCPOption.synDefaults)
        let trace = b.makeTrace()
        _ = replay(trace, through: pipeline)
        let table = pipeline.partition.expectations
        #expect(table.count == 1)

        var packet = ParsedPacket()
        let outcome = synFrame.withUnsafeBytes {
            PacketParser(linkType: .ethernet).parse($0, wireLength: synFrame.count, into: &packet)
        }
        try #require(outcome == .ok)
        let time = trace.records.last!.timestampNanos + 1_000
        for attempt in 0..<2 {
            let verdict = synFrame.withUnsafeBytes {
                pipeline.partition.process(packet, frame: $0, packetIndex: UInt64(setup + attempt), time: time,
                                           action: CTAction(commit: false))
            }
            #expect(verdict.state == newRelated, "peek \(attempt): \(verdict.state)")
            #expect(verdict.masterID == ftp.controlID)
            #expect(verdict.connectionID == Connection.noID)
            #expect(table.count == 1)
            #expect(table.stats.matched == 0)
        }
        // Now through the pipeline, which commits: related, and the expectation is consumed.
        let committed = synFrame.withUnsafeBytes {
            pipeline.process($0, wireLength: synFrame.count, linkType: .ethernet, index: setup + 2, time: time + 1_000)
        }
        #expect(committed == PacketVerdict(state: newRelated, connectionID: UInt64(setup + 2), masterID: ftp.controlID))
        #expect(table.isEmpty)
        #expect(table.stats.matched == 1)
    }
}
