import Conntrack
@testable import Datapath
import Testing
import TraceIO
import TraceSynthesis

/// A shard's receive buffer (`ReceiveBuffer`): its own copy of the frames of its receive
/// queue, which phase 1 reads instead of the shared trace.
@Suite struct ReceiveBufferTests {
    static let trace = TraceGenerator(config: GeneratorConfig(preset: .sample)).generate().trace.makeTrace(name: "sample")

    /// Entry k holds the bytes of queue position k's frame, contiguously and in queue order,
    /// with the trace's record but for the offset; all shards' buffers together hold every
    /// frame once.
    @Test(arguments: [2, 3])
    func holdsEachQueuedFrameInQueueOrder(shards: Int) {
        let trace = Self.trace
        let routing = ShardRouting(shardCount: shards, hashSeed: ConntrackConfig().hashSeed)
        let queues = ShardedDatapath.dispatch(trace, routing: routing, mayAnnounce: { _ in false }).queues
        var bytes = 0
        for queue in queues {
            #expect(!queue.isEmpty)
            let buffer = ReceiveBuffer(trace: trace, queue: queue)
            #expect(buffer.records.count == queue.count)
            var offset: UInt64 = 0
            for (k, position) in queue.enumerated() {
                var record = buffer.records[k]
                #expect(record.offset == offset)
                #expect(Array(buffer.frame(k)) == Array(trace.frame(Int(position))))
                offset += UInt64(record.capturedLength)
                record.offset = trace.records[Int(position)].offset
                #expect(record == trace.records[Int(position)])
            }
            #expect(Int(offset) == buffer.byteCount)
            bytes += buffer.byteCount
        }
        #expect(bytes == (0..<trace.count).reduce(0) { $0 + trace.frame($1).count })
    }

    /// A lone shard's queue is the whole trace, which it reads directly; more shards each get
    /// a buffer of their own.
    @Test func onlySharedTracesAreCopied() {
        let one = ShardedDatapath(trace: Self.trace, shardCount: 1, batch: 64, hashSeed: ConntrackConfig().hashSeed,
                                  collectVerdicts: false) { DefaultPipeline() }
        #expect(one.shards[0].received == nil)
        let two = ShardedDatapath(trace: Self.trace, shardCount: 2, batch: 64, hashSeed: ConntrackConfig().hashSeed,
                                  collectVerdicts: false) { DefaultPipeline() }
        #expect(two.shards.allSatisfy { $0.received != nil })
        #expect(two.shards.map { $0.received!.records.count }.reduce(0, +) == Self.trace.count)
    }
}
