import Conntrack
@testable import Datapath
import PacketParsing
import Testing
import TestSupport
import TraceIO

/// The replay loop's look-ahead (`forEachStaged`, `stageAhead`): however a sequence is cut into
/// walks, and whatever is staged ahead while waiting, every item is visited once, in order, with
/// the parse outcome, key and hash a plain parse gives; staging ahead with prefetches (a large
/// table) or parsing each item at its turn (a table in the caches) alike.
@Suite struct LookAheadTests {
    struct Visit: Equatable {
        var index: Int
        var outcome: ParseOutcome
        var key: FlowKey
        var hash: UInt64
    }

    static func frame(_ trace: Trace, _ i: Int) -> StagedFrame {
        StagedFrame(bytes: trace.frame(i), wireLength: Int(trace.records[i].wireLength),
                    linkType: trace.records[i].linkType)
    }

    /// Each frame parsed on its own: what every walk must reproduce.
    static func reference(_ trace: Trace, _ pipeline: DefaultPipeline) -> [Visit] {
        (0..<trace.count).map { i in
            var packet = ParsedPacket()
            let staged = frame(trace, i)
            let outcome = PacketParser(linkType: staged.linkType).parse(staged.bytes, wireLength: staged.wireLength,
                                                                        into: &packet)
            return Visit(index: i, outcome: outcome, key: packet.key,
                         hash: outcome == .ok ? pipeline.partition.hash(packet.key) : 0)
        }
    }

    static func walk(_ trace: Trace, _ pipeline: DefaultPipeline, cuts: [Int], stageAheadAtCuts: Int) -> [Visit] {
        var visits: [Visit] = []
        var start = 0
        for end in cuts + [trace.count] where end > start {
            pipeline.forEachStaged(start..<end, of: trace.count, frame: { frame(trace, $0) }) { k, packet, outcome, hash, _ in
                visits.append(Visit(index: k, outcome: outcome, key: packet.pointee.key, hash: hash))
            }
            for _ in 0..<stageAheadAtCuts {
                _ = pipeline.stageAhead(of: trace.count, chunk: 4) { frame(trace, $0) }
            }
            start = end
        }
        return visits
    }

    /// Pipelines whose walks stage ahead with prefetches (threshold 0: they always pay) and
    /// whose walks parse each item at its turn (never).
    static let prefetchThresholds = [0, Int.max]

    @Test(arguments: ShardDeterminismTests.samples, LookAheadTests.prefetchThresholds)
    func everyWalkSeesWhatAPlainParseSees(name: String, prefetchFrom threshold: Int) throws {
        let trace = try TraceLoader.loadComplete(path: TestPaths.sampleTrace(name))
        let make = { DefaultPipeline(config: ConntrackConfig(prefetchFromConnections: threshold)) }
        let pipeline = make()
        #expect(pipeline.partition.lookAheadPays == (threshold == 0))
        let reference = Self.reference(trace, pipeline)
        #expect(Self.walk(trace, pipeline, cuts: [], stageAheadAtCuts: 0) == reference, "one walk")
        // Windows of every size from 1 to 40, with 0, 1 and 200 stage-ahead calls between them
        // (200 x 4 runs the ring full: staging stops a ring's depth ahead of the walk).
        for size in [1, 3, 7, 16, 40] {
            let cuts = Array(stride(from: size, to: trace.count, by: size))
            for ahead in [0, 1, 200] {
                #expect(Self.walk(trace, make(), cuts: cuts, stageAheadAtCuts: ahead) == reference,
                        "\(name): windows of \(size), \(ahead) stage-ahead calls")
            }
        }
    }

    @Test func aWalkThatDoesNotContinueStartsAfresh() throws {
        let trace = try TraceLoader.loadComplete(path: TestPaths.sampleTrace("sample-mixed.pcap"))
        let pipeline = DefaultPipeline()
        let reference = Self.reference(trace, pipeline)
        var visits: [Visit] = []
        let record = { (k: Int, packet: UnsafePointer<ParsedPacket>, outcome: ParseOutcome, hash: UInt64, _: Int) in
            visits.append(Visit(index: k, outcome: outcome, key: packet.pointee.key, hash: hash))
        }
        // 0..<20, then a jump ahead to 50..<60, then 0..<300 and 0..<10 again (new loops of
        // the trace: the ring by then holds later items in the slots of 0..<10).
        try #require(trace.count >= 300)
        pipeline.forEachStaged(0..<20, of: trace.count, frame: { Self.frame(trace, $0) }, record)
        _ = pipeline.stageAhead(of: trace.count, chunk: 8) { Self.frame(trace, $0) }
        pipeline.forEachStaged(50..<60, of: trace.count, frame: { Self.frame(trace, $0) }, record)
        pipeline.forEachStaged(0..<300, of: trace.count, frame: { Self.frame(trace, $0) }, record)
        pipeline.forEachStaged(0..<10, of: trace.count, frame: { Self.frame(trace, $0) }, record)
        #expect(visits == Array(reference[0..<20]) + Array(reference[50..<60]) + Array(reference[0..<300])
                + Array(reference[0..<10]))
    }

    /// The slot and entry prefetches are hints: a replay that always makes them, one that never
    /// does (and parses each packet at its turn), and one that starts to once the table holds
    /// a few connections give the same verdicts. In sample-mixed (3,000 packets, rechecks every
    /// 256) that last walk switches from parsing at each turn to staging ahead on the way.
    @Test(arguments: ShardDeterminismTests.samples)
    func prefetchingOrNotGivesTheSameVerdicts(name: String) throws {
        let trace = try TraceLoader.loadComplete(path: TestPaths.sampleTrace(name))
        let replay = TraceReplay(trace: trace)
        var verdicts: [[PacketVerdict]] = []
        for threshold in [0, Int.max, 3] {
            let pipeline = DefaultPipeline(config: ConntrackConfig(prefetchFromConnections: threshold))
            #expect(pipeline.partition.lookAheadPays == (threshold == 0))
            var seen: [PacketVerdict] = []
            replay.run(loop: 0, through: pipeline) { _, verdict in seen.append(verdict) }
            if threshold == 3 {
                #expect(pipeline.partition.lookAheadPays, "\(name): the table never reached 3 connections")
                if name == "sample-mixed.pcap" { #expect(trace.count > 2 * LookAhead.prefetchRecheck) }
            }
            verdicts.append(seen)
        }
        #expect(verdicts[0].count == trace.count)
        #expect(verdicts[0] == verdicts[1], "\(name)")
        #expect(verdicts[0] == verdicts[2], "\(name): switching on the way")
    }
}
