import Conntrack
@testable import Datapath
import Testing
import TraceIO
import TraceSynthesis

/// A shard's receive buffer (`ReceiveBuffer`): its own copy of the frames of its receive
/// queue, which phase 1 reads instead of the shared trace.
@Suite struct ReceiveBufferTests {
    static let trace = TraceGenerator(config: GeneratorConfig(preset: .sample)).generate().trace.makeTrace(name: "sample")

    /// Entry k holds the bytes of queue position k's frame, in queue order, each frame at the
    /// first cache line after the one before, with the trace's record but for the offset and
    /// the timestamp, which is the trace time it was given for that position; all shards'
    /// buffers together hold every frame once.
    @Test(arguments: [2, 3])
    func holdsEachQueuedFrameInQueueOrder(shards: Int) {
        let trace = Self.trace
        let routing = ShardRouting(shardCount: shards, hashSeed: ConntrackConfig().hashSeed)
        let queues = ShardedDatapath.dispatch(trace, routing: routing, mayAnnounce: { _ in false }).queues
        // Trace times unlike any capture timestamp, so that a copied timestamp shows.
        let times = (0..<trace.count).map { UInt64($0) * 7 + 3 }
        var bytes = 0
        for queue in queues {
            #expect(!queue.isEmpty)
            let buffer = ReceiveBuffer(trace: trace, queue: queue, times: times)
            #expect(buffer.records.count == queue.count)
            var offset: UInt64 = 0
            for (k, position) in queue.enumerated() {
                var record = buffer.records[k]
                offset = (offset + 63) / 64 * 64
                #expect(record.offset == offset)
                #expect(Array(buffer.frame(k)) == Array(trace.frame(Int(position))))
                offset += UInt64(record.capturedLength)
                #expect(record.timestampNanos == times[Int(position)])
                record.offset = trace.records[Int(position)].offset
                record.timestampNanos = trace.records[Int(position)].timestampNanos
                #expect(record == trace.records[Int(position)])
            }
            #expect(Int(offset) == buffer.byteCount)
            bytes += buffer.records.reduce(0) { $0 + Int($1.capturedLength) }
        }
        #expect(bytes == (0..<trace.count).reduce(0) { $0 + trace.frame($1).count })
    }

    /// A lone shard's queue is the whole trace, which it reads directly; more shards each get
    /// a buffer of their own.
    @Test func onlySharedTracesAreCopied() {
        let one = ShardedDatapath(trace: Self.trace, shardCount: 1, batch: 64, hashSeed: ConntrackConfig().hashSeed,
                                  collectVerdicts: false) { DefaultPipeline() }
        #expect(one.shards[0].receiveBuffer == nil)
        let two = ShardedDatapath(trace: Self.trace, shardCount: 2, batch: 64, hashSeed: ConntrackConfig().hashSeed,
                                  collectVerdicts: false) { DefaultPipeline() }
        #expect(two.shards.allSatisfy { $0.receiveBuffer != nil })
        #expect(two.shards.map { $0.receiveBuffer!.records.count }.reduce(0, +) == Self.trace.count)
        let shared = ShardedDatapath(trace: Self.trace, shardCount: 2, batch: 64, hashSeed: ConntrackConfig().hashSeed,
                                     collectVerdicts: false, receiveBuffers: false) { DefaultPipeline() }
        #expect(shared.shards.allSatisfy { $0.receiveBuffer == nil })
    }

    /// Reading the frames from the receive buffers or from the shared trace gives the same
    /// verdict for every packet, whatever the shard count and batch.
    @Test(arguments: [(2, 16), (3, 64)])
    func sharedFramesGiveTheSameVerdicts(shards: Int, batch: Int) async {
        var verdicts: [[PacketVerdict]] = []
        for receiveBuffers in [true, false] {
            let datapath = ShardedDatapath(trace: Self.trace, shardCount: shards, batch: batch,
                                           hashSeed: ConntrackConfig().hashSeed, collectVerdicts: true,
                                           receiveBuffers: receiveBuffers) { DefaultPipeline() }
            await datapath.run(loop: 0)
            verdicts.append(datapath.sink!.verdicts)
        }
        #expect(verdicts[0].count == Self.trace.count)
        #expect(verdicts[0] == verdicts[1])
        #expect(verdicts[0].contains { $0.state.contains(.related) })
    }
}
