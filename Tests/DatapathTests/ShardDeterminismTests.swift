import Conntrack
import Datapath
import Foundation
import Testing
import TraceIO
import TraceSynthesis
import TestSupport

/// The sharded datapath gives, packet for packet, the verdicts of the single-partition
/// reference, whatever the shard count and batch size: on the committed samples, on every
/// public capture of ../shared/traces, and on a generated FTP-heavy trace whose data
/// connections hash to other shards than their control connections.
@Suite struct ShardDeterminismTests {
    static let packageRoot = TestPaths.packageRoot

    static func reference(_ trace: Trace, loops: Int = 1) -> [PacketVerdict] {
        let pipeline = DefaultPipeline()
        var verdicts: [PacketVerdict] = []
        let replay = TraceReplay(trace: trace)
        for loop in 0..<loops {
            replay.run(loop: loop, through: pipeline) { _, verdict in verdicts.append(verdict) }
        }
        return verdicts
    }

    static func sharded(_ trace: Trace, shards: Int, batch: Int, loops: Int = 1) async -> [PacketVerdict] {
        let datapath = ShardedDatapath(trace: trace, shardCount: shards, batch: batch,
                                       hashSeed: ConntrackConfig().hashSeed, collectVerdicts: true, loops: loops) {
            DefaultPipeline()
        }
        for loop in 0..<loops { await datapath.run(loop: loop) }
        return datapath.sink!.verdicts
    }

    static func expectSame(_ trace: Trace, name: String, loops: Int = 1,
                           configurations: [(Int, Int)] = [(1, 64), (2, 1), (2, 7), (4, 32), (8, 3), (8, 1024)]) async {
        let expected = reference(trace, loops: loops)
        for (shards, batch) in configurations {
            let got = await sharded(trace, shards: shards, batch: batch, loops: loops)
            let firstDifference = zip(expected, got).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(got.count == expected.count)
            #expect(firstDifference == nil,
                    "\(name), \(shards) shards, batch \(batch): packet \(firstDifference?.offset ?? -1): \(String(describing: firstDifference?.element.0)) vs \(String(describing: firstDifference?.element.1))")
        }
    }

    static let samples = ["sample-mixed.pcap", "ftp-active-v4.pcap", "ftp-passive-v4.pcap", "ftp-ipv6.pcap", "tftp.pcap"]

    @Test(arguments: samples)
    func committedSamples(name: String) async throws {
        let trace = try TraceLoader.loadComplete(path: Self.packageRoot.appendingPathComponent("traces/\(name)").path)
        await Self.expectSame(trace, name: name, loops: 2)
    }

    @Test func everySharedCapture() async throws {
        let directory = try TestPaths.sharedTraces()
        let manifest = try String(contentsOf: directory.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8)
        let files = manifest.split(separator: "\n").dropFirst().map { String($0.split(separator: "\t")[0]) }
        #expect(files.count > 20, "no captures listed in \(directory.path)/MANIFEST.tsv")
        for file in files {
            let trace = try TraceLoader.loadComplete(path: directory.appendingPathComponent(file).path)
            await Self.expectSame(trace, name: file, configurations: [(2, 1), (4, 16), (8, 5)])
        }
    }

    @Test func ftpHeavyTraceWithDataConnectionsOnOtherShards() async throws {
        var config = GeneratorConfig(preset: .ftp)
        config.ftpSessionsPerMode = 12
        config.tftpSessions = 12
        config.concurrency = 30
        let trace = TraceGenerator(config: config).generate().trace.makeTrace(name: "ftp-heavy")
        // The point of the test: most related connections live on another shard than their master.
        let routing = ShardRouting(shardCount: 4, hashSeed: ConntrackConfig().hashSeed)
        let verdicts = Self.reference(trace)
        var crossShard = 0, related = 0
        var firstPacketKey: [UInt64: Int] = [:]
        for (index, verdict) in verdicts.enumerated() where verdict.state.contains(.new) && verdict.connectionID != Connection.noID {
            firstPacketKey[verdict.connectionID] = index
        }
        for (index, verdict) in verdicts.enumerated() where verdict.state.contains([.new, .related]) {
            related += 1
            let master = try #require(firstPacketKey[verdict.masterID])
            if shardOf(trace, index, routing) != shardOf(trace, master, routing) { crossShard += 1 }
        }
        #expect(related >= 80)
        #expect(crossShard * 2 > related, "only \(crossShard) of \(related) data connections on another shard")
        await Self.expectSame(trace, name: "ftp-heavy")
    }

    /// Without verdict collection (the way ctbench measures) the shards do the same work: the
    /// counters add up to the reference's.
    @Test(arguments: [1, 2, 3])
    func countersWithoutVerdictCollectionMatchTheReference(shards: Int) async throws {
        let trace = try TraceLoader.loadComplete(path: Self.packageRoot.appendingPathComponent("traces/sample-mixed.pcap").path)
        let reference = DefaultPipeline()
        TraceReplay(trace: trace).run(loop: 0, through: reference)
        let datapath = ShardedDatapath(trace: trace, shardCount: shards, batch: 32, hashSeed: ConntrackConfig().hashSeed,
                                       collectVerdicts: false) { DefaultPipeline() }
        await datapath.run(loop: 0)
        let summary = await datapath.summary()
        #expect(summary.conntrack.packetsByState == reference.partition.stats.packetsByState)
        #expect(summary.conntrack.committed == reference.partition.stats.committed)
        #expect(summary.expectations.matched == reference.partition.expectations.stats.matched)
        #expect(summary.pipeline == reference.counters)
        #expect(summary.packetsPerShard.reduce(0, +) == UInt64(trace.count))
    }

    func shardOf(_ trace: Trace, _ index: Int, _ routing: ShardRouting) -> Int {
        var packet = ParsedPacketBox.parse(trace, index)
        packet.key.zone = 0
        return routing.shard(of: packet.key)
    }
}

import PacketParsing

enum ParsedPacketBox {
    static func parse(_ trace: Trace, _ index: Int) -> ParsedPacket {
        var packet = ParsedPacket()
        let record = trace.records[index]
        _ = PacketParser(linkType: record.linkType).parse(trace.frame(index), wireLength: Int(record.wireLength), into: &packet)
        return packet
    }
}
