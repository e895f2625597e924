import Conntrack
import Datapath
import FlowTable
import Foundation
import PacketParsing
import Testing
import TestSupport
import TraceIO
import TraceSynthesis

/// `--flows` in the datapath: flows/default.flows gives the built-in default pipeline's
/// verdicts, and a flow table's verdicts (action included) are the same for any sharding.
@Suite struct FlowDatapathTests {
    /// The generated FTP/TFTP mix of `ShardDeterminismTests` (data connections on other shards).
    static func ftpHeavyTrace() -> Trace {
        var config = GeneratorConfig(preset: .ftp)
        config.ftpSessionsPerMode = 12
        config.tftpSessions = 12
        config.concurrency = 30
        return TraceGenerator(config: config).generate().trace.makeTrace(name: "ftp-heavy")
    }

    /// default.flows alone: the default pipeline's ct columns packet for packet, `normal` for
    /// what it forwards and `drop` for what it drops, and the same counters.
    static func expectDefaultFlowsMatch(_ trace: Trace, name: String) throws {
        let reference = DefaultPipeline()
        var expected: [PacketVerdict] = []
        TraceReplay(trace: trace).run(loop: 0, through: reference) { _, verdict in expected.append(verdict) }
        let flows = FlowPipeline(policy: try FlowRuns.policy("default.flows"), core: DefaultPipeline())
        var got: [PacketVerdict] = []
        TraceReplay(trace: trace).run(loop: 0, through: flows) { _, verdict in got.append(verdict) }
        let ctColumns = got.map { verdict -> PacketVerdict in
            var stripped = verdict
            stripped.action = .none
            return stripped
        }
        let difference = FlowRuns.firstDifference(expected, ctColumns)
        #expect(difference == nil, "\(name): \(difference ?? "")")
        #expect(flows.core.counters == reference.counters, "\(name): forwarded/dropped differ")
        #expect(flows.core.partition.stats.packetsByState == reference.partition.stats.packetsByState, "\(name)")
        let forwarded = got.filter { !$0.action.isDrop }
        #expect(forwarded.allSatisfy { $0.action.description == "normal" }, "\(name)")
        #expect(got.filter { $0.state.contains(.invalid) }.allSatisfy { $0.action.isDrop }, "\(name)")
    }

    @Test(arguments: ShardDeterminismTests.samples)
    func defaultFlowsGiveTheDefaultPipelinesVerdictsOnTheSamples(name: String) throws {
        try Self.expectDefaultFlowsMatch(try TraceLoader.loadComplete(path: TestPaths.sampleTrace(name)), name: name)
    }

    @Test func defaultFlowsGiveTheDefaultPipelinesVerdictsOnEverySharedCapture() throws {
        let directory = try TestPaths.sharedTraces()
        let manifest = try String(contentsOf: directory.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8)
        let files = manifest.split(separator: "\n").dropFirst().map { String($0.split(separator: "\t")[0]) }
        #expect(files.count > 20)
        for file in files {
            try Self.expectDefaultFlowsMatch(try TraceLoader.loadComplete(path: directory.appendingPathComponent(file).path),
                                             name: file)
        }
    }

    @Test func defaultFlowsGiveTheDefaultPipelinesVerdictsOnAGeneratedFTPAndTFTPTrace() throws {
        let trace = Self.ftpHeavyTrace()
        try Self.expectDefaultFlowsMatch(trace, name: "ftp-heavy")
        // The trace exercises what matters: ALG-related connections over FTP and TFTP.
        let verdicts = FlowRuns.single(trace, try FlowRuns.policy("default.flows"))
        #expect(verdicts.filter { $0.state == [.tracked, .new, .related] }.count >= 80)
    }

    @Test(arguments: ["sample-mixed.pcap", "ftp-active-v4.pcap", "ftp-ipv6.pcap", "tftp.pcap"])
    func defaultFlowsAreTheSameForAnySharding(name: String) async throws {
        let trace = try TraceLoader.loadComplete(path: TestPaths.sampleTrace(name))
        let policy = try FlowRuns.policy("default.flows")
        let expected = FlowRuns.single(trace, policy, loops: 2)
        for (shards, batch) in [(1, 64), (2, 1), (2, 7), (4, 32), (8, 3), (8, 1024)] {
            let got = await FlowRuns.sharded(trace, policy, shards: shards, batch: batch, loops: 2)
            let difference = FlowRuns.firstDifference(expected, got)
            #expect(difference == nil, "\(name), \(shards) shards, batch \(batch): \(difference ?? "")")
        }
    }

    /// A policy that makes several ct calls per packet in two zones, commits in both, replies
    /// through another table, sets a mark and runs ALGs in zone 1: the packets that park do so
    /// after calls that hit, and a tuple's zones are touched in trace order on every sharding.
    static let twoZones = """
        priority=100,ip,ct_state=-trk,in_port=1,actions=ct(zone=1,table=1)
        priority=100,ipv6,ct_state=-trk,in_port=1,actions=ct(zone=1,table=1)
        priority=90,ip,ct_state=-trk,in_port=2,actions=ct(zone=2,table=2)
        priority=90,ipv6,ct_state=-trk,in_port=2,actions=ct(zone=2,table=2)
        priority=0,actions=normal
        table=1,priority=10,tcp,tp_dst=21,ct_state=+trk+new,actions=ct(commit,zone=1,alg=ftp),ct(zone=2),ct(commit,zone=2),2
        table=1,priority=10,udp,tp_dst=69,ct_state=+trk+new,actions=ct(commit,zone=1,alg=tftp),2
        table=1,priority=5,ct_state=+trk+new,actions=ct(commit,zone=1,exec(set_field:5->ct_mark)),ct(commit,zone=2),2
        table=1,priority=5,ct_state=+trk+est,actions=ct(zone=2),2
        table=1,priority=5,ct_state=+trk+rel,actions=ct(commit,zone=2),2
        table=1,priority=0,actions=drop
        table=2,ct_state=+trk-inv,actions=ct(zone=1,table=3)
        table=2,actions=drop
        table=3,ct_mark=5,actions=1,normal
        table=3,ct_state=+trk-inv,actions=1
        table=3,actions=drop
        """

    @Test func aTwoZonePolicyIsTheSameForAnySharding() async throws {
        let inPorts = try InPortMap.parse("1=10.0.0.0/8,2=172.16.0.0/24,1=2001:db8:c1::/64,2=2001:db8:5::/64")
        let policy = try FlowPolicy(text: Self.twoZones, inPorts: inPorts)
        for trace in [Self.ftpHeavyTrace(), try TraceLoader.loadComplete(path: TestPaths.sampleTrace("sample-mixed.pcap"))] {
            let expected = FlowRuns.single(trace, policy)
            // The policy really does what it is here for.
            #expect(expected.contains { $0.zone == 2 } && expected.contains { $0.zone == 1 && $0.state.contains(.related) })
            #expect(Set(expected.map(\.action.description)).isSuperset(of: ["output:1,normal", "output:1", "output:2", "drop"]))
            for (shards, batch) in [(2, 1), (2, 16), (4, 5), (8, 64)] {
                let got = await FlowRuns.sharded(trace, policy, shards: shards, batch: batch)
                let difference = FlowRuns.firstDifference(expected, got)
                #expect(difference == nil, "\(trace.name), \(shards) shards, batch \(batch): \(difference ?? "")")
            }
        }
    }

    /// Zone 2 tracks the server's UDP flow; a client packet then parks on its first call (zone
    /// 1: a miss) and marks the zone-2 connection on its second; the server's next packet, in
    /// the same window, sees the mark alone (output 3). Phase 1 still holds the unmarked zone-2
    /// connection: a parked packet's tuple must park its later packets, or that one says output 1.
    /// (The unreachable ALG flow makes payload packets possible announcers: misses park instead
    /// of committing in phase 1.)
    @Test func packetsOfAParkedTupleWaitForIt() async throws {
        let policy = try FlowPolicy(text: """
            priority=10,in_port=2,udp,ct_state=-trk,actions=ct(zone=2,table=2)
            priority=10,in_port=1,udp,ct_state=-trk,actions=ct(zone=1,table=1)
            priority=0,actions=normal
            table=1,actions=ct(commit,zone=1),ct(commit,zone=2,exec(set_field:5->ct_mark)),2
            table=2,ct_state=+trk+new,actions=ct(commit,zone=2),1
            table=2,ct_state=+trk+est,ct_mark=5,actions=3
            table=2,ct_state=+trk+est,actions=1
            table=9,actions=ct(commit,alg=tftp)
            """, inPorts: try InPortMap.parse("1=10.1.1.1,2=10.1.1.2"))
        var b = TraceBuilder()
        let client = Endpoint(ip: "10.1.1.1", port: 5_000), server = Endpoint(ip: "10.1.1.2", port: 53)
        b.append(PacketBuilder.udp(from: server, to: client, payload: [1]))
        // Other frames, so that the flow's next packets fall in a later window (batch 1 and 4).
        for _ in 0..<15 { b.append(PacketBuilder.arp(from: client.address, to: server.address)) }
        let parked = b.count
        b.append(PacketBuilder.udp(from: client, to: server, payload: [2]))
        b.append(PacketBuilder.udp(from: server, to: client, payload: [3]))
        let trace = b.makeTrace(name: "mark after park")
        let expected = FlowRuns.single(trace, policy)
        #expect(expected[parked].zone == 2 && expected[parked].action.description == "output:2")
        #expect(expected[parked + 1].action.description == "output:3")
        for batch in [1, 4, 64] {
            let got = await FlowRuns.sharded(trace, policy, shards: 2, batch: batch)
            let difference = FlowRuns.firstDifference(expected, got)
            #expect(difference == nil, "batch \(batch): \(difference ?? "")")
        }
    }

    /// Without verdict collection the shards' counters add up to the reference's, action
    /// counts included.
    @Test func countersAndActionCountsMatchTheReference() async throws {
        let trace = try TraceLoader.loadComplete(path: TestPaths.sampleTrace("sample-mixed.pcap"))
        let policy = try FlowRuns.policy("seed-flows2.flows", inPorts: "1=10.0.0.0/8,2=172.16.0.0/24")
        let reference = FlowPipeline(policy: policy, core: DefaultPipeline())
        TraceReplay(trace: trace).run(loop: 0, through: reference)
        let datapath = ShardedDatapath(trace: trace, shardCount: 3, batch: 16, hashSeed: ConntrackConfig().hashSeed,
                                       collectVerdicts: false, policy: policy) { DefaultPipeline() }
        await datapath.run(loop: 0)
        let summary = await datapath.summary()
        #expect(summary.actions == reference.actions)
        #expect(summary.actions.counts.reduce(0, +) == UInt64(trace.count))
        #expect(summary.pipeline == reference.core.counters)
        #expect(summary.conntrack.packetsByState == reference.core.partition.stats.packetsByState)
        let byName = summary.actions.byName
        #expect(byName["drop"] ?? 0 > 0 && byName["output:1"] ?? 0 > 0 && byName["output:2"] ?? 0 > 0)
    }
}
