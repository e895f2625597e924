import Conntrack
@testable import Datapath
import PacketParsing
import Testing
import TraceIO
import TraceSynthesis

/// Timestamps going backwards (issue 8, item 4). Trace time is the latest capture time seen so
/// far in trace order: a timestamp earlier than that is clamped forward to it, and every
/// decision (expiry, the verdicts) uses the clamped time, single partition or sharded.
@Suite struct BackwardsTimeTests {
    static let second: UInt64 = 1_000_000_000
    static let a = Endpoint(ip: "10.7.0.1", port: 4_000), b = Endpoint(ip: "10.7.0.2", port: 53)
    static let c = Endpoint(ip: "10.7.0.3", port: 4_001), d = Endpoint(ip: "10.7.0.4", port: 53)

    /// UDP a->b at 1,000 s (new; the first-packet timeout is 60 s); c->d at 2,000 s; then a->b
    /// stamped 1,001 s and b->a stamped 1,500 s, both before 2,000 s.
    static func trace() -> Trace {
        let assembler = TraceAssembler()
        let frames: [([UInt8], UInt64)] = [
            (PacketBuilder.udp(from: a, to: b, payload: [1]), 1_000),
            (PacketBuilder.udp(from: c, to: d, payload: [2]), 2_000),
            (PacketBuilder.udp(from: a, to: b, payload: [3]), 1_001),
            (PacketBuilder.udp(from: b, to: a, payload: [4]), 1_500),
        ]
        for (frame, seconds) in frames { assembler.append(frame: frame, timestampNanos: seconds * second) }
        return assembler.finish(name: "backwards")
    }

    /// Clamped to 2,000 s, the a->b connection of 1,000 s has expired: a->b at "1,001 s" starts
    /// a new connection (by its own timestamp it would be established), and b->a answers it.
    static let expected = [
        PacketVerdict(state: [.tracked, .new], connectionID: 0),
        PacketVerdict(state: [.tracked, .new], connectionID: 1),
        PacketVerdict(state: [.tracked, .new], connectionID: 2),
        PacketVerdict(state: [.tracked, .established, .reply], connectionID: 2),
    ]

    @Test func traceTimeIsClampedForward() {
        let replay = TraceReplay(trace: Self.trace())
        #expect(replay.times == [1_000, 2_000, 2_000, 2_000].map { $0 * Self.second })
        #expect(replay.loopShift == 1_000 * Self.second + 1_000)
    }

    @Test func verdictsUseTheClampedTime() async {
        let trace = Self.trace()
        let pipeline = DefaultPipeline()
        var verdicts: [PacketVerdict] = []
        TraceReplay(trace: trace).run(loop: 0, through: pipeline) { _, verdict in verdicts.append(verdict) }
        #expect(verdicts == Self.expected)
        #expect(pipeline.partition.stats.expired == 1)
        // Phase 1 reads a packet's time from its shard's receive buffer, or by position from
        // the trace's times without one (`PhaseOneViews.time`).
        for shards in [2, 4] {
            for receiveBuffers in [true, false] {
                let datapath = ShardedDatapath(trace: trace, shardCount: shards, batch: 1,
                                               hashSeed: ConntrackConfig().hashSeed, collectVerdicts: true,
                                               receiveBuffers: receiveBuffers) { DefaultPipeline() }
                #expect(datapath.shards.contains { $0.receiveBuffer != nil } == receiveBuffers)
                await datapath.run(loop: 0)
                #expect(datapath.sink?.verdicts == Self.expected, "\(shards) shards, receive buffers \(receiveBuffers)")
            }
        }
    }
}
