import Conntrack
import FlowTable
import PacketParsing
import TraceIO

/// The sharded datapath: `shardCount` shard actors, each owning a conntrack partition and the
/// expectations whose owner hash picks it, fed a preloaded trace in windows.
///
/// The ordering rule that makes verdicts independent of the shard count and the batch size
/// (docs/DESIGN.md, "Determinism"): the trace is cut into windows of about `batch × workerCount`
/// packets (`WindowPlan` evens out the workers' shares). Phase 1: every shard, in parallel, finishes its packets of the window that hit a
/// live connection (the great majority) and parks those that miss; nothing it does reaches
/// expectations (announcements and master deaths are deferred, stamped with their index).
/// Phase 2: the coordinator walks the window's parked packets and deferred events in trace
/// order, one at a time: an event is delivered to its owner, a parked packet is finished by its
/// shard, which asks the expectation's owner (and the master's shard). Every parked packet
/// therefore sees exactly the expectations announced before it, and nothing after.
///
/// The shards run on `workerCount` dedicated threads for the run (`ShardThreads`), which meet
/// at a barrier between phases (`WindowLoop`). With more shards than workers, each worker runs
/// its home shards of a window and then takes shards of the others that no one has started
/// (`ShardClaims`): a worker on a faster processor does more of each window.
public final class ShardedDatapath {
    public let shardCount: Int
    /// Worker threads (at most `shardCount`).
    public let workerCount: Int
    /// Packets per worker per window.
    public let batch: Int
    public let replay: TraceReplay
    let shards: [Shard]
    /// The packets that may announce an expectation (position and address pair), ascending.
    let announcers: [Announcer]
    let routing: ShardRouting
    /// Where each window ends (`WindowPlan`), for more than one shard.
    let windowEnds: [Int]
    public let sink: VerdictSink?
    public let measureLatency: Bool
    /// Shard thread k runs pinned to the k-th processor the process may use (`ShardThreads`).
    public let pinThreads: Bool
    /// Windows, parked packets and phase-1 events delivered across shards, over every run (the
    /// shards count their own messages).
    private var router = RouterStats()
    /// Each worker's time accounting, over every run.
    private var workers: [RouterStats] = []
    /// Called by each worker as it starts a window (`WindowLoop.atWindowStart`; tests only).
    var atWindowStart: (@Sendable (_ worker: Int) -> Void)?

    /// - Parameters:
    ///   - workerCount: worker threads (nil: one per shard); `batch × workerCount` packets a window.
    ///   - makePipeline: one partition + ALGs per shard (table size per shard).
    ///   - collectVerdicts: keep every packet's verdict (for `--verdicts` and the tests), for
    ///     `loops` loops of the trace.
    ///   - policy: a flow table every shard runs over its partition (nil: the default pipeline).
    ///   - receiveBuffers: with two shards or more, each shard reads its frames from its own copy
    ///     (`ReceiveBuffer`, one more trace of memory); false: from the shared trace.
    public init(trace: Trace, shardCount: Int, workerCount: Int? = nil, batch: Int, hashSeed: UInt64, collectVerdicts: Bool,
                loops: Int = 1, measureLatency: Bool = false, pinThreads: Bool = true, policy: FlowPolicy? = nil,
                receiveBuffers: Bool = true, makePipeline: @escaping @Sendable () -> DefaultPipeline) {
        let workerCount = workerCount ?? shardCount
        precondition(shardCount > 0 && batch > 0 && workerCount > 0 && workerCount <= shardCount)
        self.shardCount = shardCount
        self.workerCount = workerCount
        self.batch = batch
        self.measureLatency = measureLatency
        self.pinThreads = pinThreads
        replay = TraceReplay(trace: trace)
        routing = ShardRouting(shardCount: shardCount, hashSeed: hashSeed)
        let sink = collectVerdicts ? VerdictSink(count: trace.count * loops) : nil
        self.sink = sink
        let times = replay.times
        let pipelines = (0..<shardCount).map { _ in makePipeline() }
        let flows = policy.map { policy in pipelines.map { FlowPipeline(policy: policy, core: $0) } }
        let dispatched = ShardedDatapath.dispatch(trace, routing: routing,
                                                  mayAnnounce: flows?[0].mayAnnounce ?? pipelines[0].mayAnnounce)
        announcers = dispatched.announcers
        if shardCount > 1 {
            // Windows planned to even out the home workers' shares (`ShardClaims`).
            var workerOf = [Int32](repeating: 0, count: trace.count)
            for (shard, queue) in dispatched.queues.enumerated() {
                for position in queue { workerOf[Int(position)] = Int32(shard % workerCount) }
            }
            windowEnds = WindowPlan(shardOf: workerOf, shardCount: workerCount, target: batch * workerCount).ends
        } else {
            windowEnds = []
        }
        shards = (0..<shardCount).map { id in
            Shard(id: id, pipeline: pipelines[id], flows: flows?[id],
                  routing: ShardRouting(shardCount: shardCount, hashSeed: hashSeed),
                  trace: trace, times: times, queue: dispatched.queues[id], sink: sink, measureLatency: measureLatency,
                  receiveBuffers: receiveBuffers)
        }
    }

    /// Receive-side scaling: which shard each packet goes to, decided once per trace before the
    /// clock starts, as a NIC's RSS hash does before a datapath thread sees a packet (and as
    /// OVS's reference figures exclude flow extraction). IP packets go by their symmetric flow
    /// hash (zone 0: the default pipeline's zone), ICMP errors by the quoted packet's, other
    /// frames round-robin by index. Each shard gets its trace positions in ascending order.
    ///
    /// The same pass lists the packets that may announce an expectation (`mayAnnounce`, a
    /// property of the packet alone), ascending, with their address pairs: phase 1 commits a new
    /// connection at once when none of them earlier in its window joins its two addresses and
    /// its owner holds no expectation for it (`RelatednessCheck`).
    static func dispatch(_ trace: Trace, routing: ShardRouting, mayAnnounce: (ParsedPacket) -> Bool)
        -> (queues: [[Int32]], announcers: [Announcer]) {
        var queues = [[Int32]](repeating: [], count: routing.shardCount)
        var announcers: [Announcer] = []
        for q in queues.indices { queues[q].reserveCapacity(trace.count / routing.shardCount + 16) }
        var packet = ParsedPacket()
        for position in 0..<trace.count {
            let record = trace.records[position]
            let frame = trace.frame(position)
            let outcome = PacketParser(linkType: record.linkType)
                .parse(frame, wireLength: Int(record.wireLength), into: &packet)
            let shard = outcome == .ok ? routing.shard(of: packet, frame: frame) : position % routing.shardCount
            queues[shard].append(Int32(position))
            if outcome == .ok && mayAnnounce(packet) { announcers.append(Announcer(position: Int32(position), key: packet.key)) }
        }
        return (queues, announcers)
    }

    /// Runs loop number `loop` (0-based) of the trace; `progress` hears the packets of the loop
    /// done so far, a few times a second.
    public func run(loop: Int, progress: ((Int) -> Void)? = nil) async {
        let count = replay.trace.count
        let base = loop * count
        let shift = replay.shift(ofLoop: loop)
        let window = batch * workerCount
        let pin = pinThreads
        if shardCount == 1 {
            router.windows += UInt64((count + window - 1) / window)
            shards[0].runAlone(windowSize: window, count: count, base: base, shift: shift)
            return
        }
        let run = WindowLoop(shards: shards, workers: workerCount, routing: routing, times: replay.times, announcers: announcers,
                             count: count, base: base, shift: shift, windowEnds: windowEnds, measureLatency: measureLatency,
                             atWindowStart: atWindowStart)
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await ShardThreads.run(count: run.workers, pin: pin) { worker in run.work(worker) }
                return true
            }
            if progress != nil { group.addTask { await WindowLoop.tick() } }
            while let finished = await group.next() {
                if finished {
                    group.cancelAll()
                    break
                }
                progress?(run.packetsDone)
                group.addTask { await WindowLoop.tick() }
            }
        }
        router.add(run.router)
        let times = run.workerTimesByWorker
        if workers.isEmpty { workers = Array(repeating: RouterStats(), count: times.count) }
        for (worker, time) in times.enumerated() {
            router.add(time)
            workers[worker].add(time)
        }
    }

    /// Every shard's figures, added up; plus the router's.
    public func summary() async -> DatapathSummary {
        var total = DatapathSummary()
        for shard in shards { total.merge(shard.summary()) }
        total.router.add(router)
        total.workers = workers
        return total
    }

    /// The connection table of every shard, one sorted dump.
    public func dumpConnections() async -> [String] {
        var lines: [String] = []
        for shard in shards { lines += shard.dumpConnections() }
        return lines.sorted()
    }

    public func dumpExpectations() async -> [String] {
        var lines: [String] = []
        for shard in shards { lines += shard.dumpExpectations() }
        return lines.sorted()
    }
}
