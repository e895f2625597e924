import Conntrack
import FlowTable
import PacketParsing
import TraceIO

/// The sharded datapath: `shardCount` shard actors, each owning a conntrack partition and the
/// expectations whose owner hash picks it, fed a preloaded trace in windows.
///
/// The ordering rule that makes verdicts independent of the shard count and the batch size
/// (docs/DESIGN.md, "Determinism"): the trace is cut into windows of `batch × shardCount`
/// packets. Phase 1: every shard, in parallel, finishes its packets of the window that hit a
/// live connection (the great majority) and parks those that miss; nothing it does reaches
/// expectations (announcements and master deaths are deferred, stamped with their index).
/// Phase 2: the coordinator walks the window's parked packets and deferred events in trace
/// order, one at a time: an event is delivered to its owner, a parked packet is finished by its
/// shard, which asks the expectation's owner (and the master's shard) over messages. Every
/// parked packet therefore sees exactly the expectations announced before it, and nothing after.
public final class ShardedDatapath {
    public let shardCount: Int
    public let batch: Int
    public let replay: TraceReplay
    let shards: [Shard]
    let routing: ShardRouting
    public let sink: VerdictSink?
    public let measureLatency: Bool
    private var windows: UInt64 = 0
    private var parked: UInt64 = 0
    /// Phase-1 events the router delivered to another shard than the one that made them.
    private var deliveredAcross = RouterStats()

    /// - Parameters:
    ///   - makePipeline: one partition + ALGs per shard (table size per shard).
    ///   - collectVerdicts: keep every packet's verdict (for `--verdicts` and the tests), for
    ///     `loops` loops of the trace.
    ///   - policy: a flow table every shard runs over its partition (nil: the default pipeline).
    public init(trace: Trace, shardCount: Int, batch: Int, hashSeed: UInt64, collectVerdicts: Bool,
                loops: Int = 1, measureLatency: Bool = false, policy: FlowPolicy? = nil,
                makePipeline: @escaping @Sendable () -> DefaultPipeline) {
        precondition(shardCount > 0 && batch > 0)
        self.shardCount = shardCount
        self.batch = batch
        self.measureLatency = measureLatency
        replay = TraceReplay(trace: trace)
        routing = ShardRouting(shardCount: shardCount, hashSeed: hashSeed)
        let sink = collectVerdicts ? VerdictSink(count: trace.count * loops) : nil
        self.sink = sink
        let times = replay.times
        let queues = ShardedDatapath.dispatch(trace, routing: routing)
        shards = (0..<shardCount).map { id in
            Shard(id: id, makePipeline: makePipeline, policy: policy, routing: ShardRouting(shardCount: shardCount, hashSeed: hashSeed),
                  trace: trace, times: times, queue: queues[id], sink: sink, measureLatency: measureLatency)
        }
    }

    /// Receive-side scaling: which shard each packet goes to, decided once per trace before the
    /// clock starts, as a NIC's RSS hash does before a datapath thread sees a packet (and as
    /// OVS's reference figures exclude flow extraction). IP packets go by their symmetric flow
    /// hash (zone 0: the default pipeline's zone), ICMP errors by the quoted packet's, other
    /// frames round-robin by index. Each shard gets its trace positions in ascending order.
    static func dispatch(_ trace: Trace, routing: ShardRouting) -> [[Int32]] {
        var queues = [[Int32]](repeating: [], count: routing.shardCount)
        for q in queues.indices { queues[q].reserveCapacity(trace.count / routing.shardCount + 16) }
        var packet = ParsedPacket()
        for position in 0..<trace.count {
            let record = trace.records[position]
            let frame = trace.frame(position)
            let outcome = PacketParser(linkType: record.linkType)
                .parse(frame, wireLength: Int(record.wireLength), into: &packet)
            let shard = outcome == .ok ? routing.shard(of: packet, frame: frame) : position % routing.shardCount
            queues[shard].append(Int32(position))
        }
        return queues
    }

    /// Runs loop number `loop` (0-based) of the trace; `progress` hears the packets of the loop
    /// done so far after every window.
    public func run(loop: Int, progress: ((Int) -> Void)? = nil) async {
        let count = replay.trace.count
        let base = loop * count
        let shift = UInt64(loop) * replay.loopShift
        let window = batch * shardCount
        if shardCount == 1 {
            windows += UInt64((count + window - 1) / window)
            await shards[0].runAlone(windowSize: window, count: count, base: base, shift: shift)
            return
        }
        var start = 0
        while start < count {
            let range = start..<min(start + window, count)
            await runWindow(range, base: base, shift: shift, loopLength: count)
            start = range.upperBound
            progress?(start)
        }
    }

    private func runWindow(_ range: Range<Int>, base: Int, shift: UInt64, loopLength: Int) async {
        windows += 1
        let dispatchedAt = measureLatency ? LatencyRecorder.now() : 0
        // Phase 1, all shards at once.
        let reports = await withTaskGroup(of: (Int, Shard.WindowReport).self) { group in
            for (id, shard) in shards.enumerated() {
                group.addTask { (id, await shard.runWindow(range, base: base, shift: shift, dispatchedAt: dispatchedAt)) }
            }
            var reports = [Shard.WindowReport](repeating: Shard.WindowReport(), count: shardCount)
            for await (id, report) in group { reports[id] = report }
            return reports
        }
        let windowStart = replay.times[range.lowerBound] &+ shift
        if reports.allSatisfy({ $0.parked.isEmpty && $0.deferred.isEmpty }) { return }
        for shard in shards { await shard.beginPhaseTwo(windowStart: windowStart) }
        // Phase 2a, all shards at once: parked packets before the first one that could involve
        // an expectation. When none is live anywhere, a packet can only meet one announced
        // earlier in this window; before the first possible announcement (a parked packet that
        // may announce, or an announcement deferred from phase 1) there is none to meet.
        var limit = 0
        if reports.allSatisfy({ $0.expectationCount == 0 }) {
            limit = reports.map(\.firstMayAnnounce).min() ?? Int.max
            for report in reports {
                for item in report.deferred {
                    if case .expectation = item.event { limit = min(limit, item.index) }
                }
            }
        }
        var earlyDeaths: [(index: Int, owner: Int, event: Shard.Deferred)] = []
        if limit > 0 {
            earlyDeaths = await withTaskGroup(of: [(index: Int, owner: Int, event: Shard.Deferred)].self) { group in
                for (id, shard) in shards.enumerated() {
                    let early = reports[id].parked.prefix { $0 < limit }
                    if early.isEmpty { continue }
                    parked += UInt64(early.count)
                    group.addTask {
                        await shard.resolveLocally(Array(early), loopLength: loopLength, shift: shift, dispatchedAt: dispatchedAt)
                    }
                }
                var all: [(index: Int, owner: Int, event: Shard.Deferred)] = []
                for await deaths in group { all += deaths }
                return all
            }
        }
        // Phase 2b, one step at a time in trace order: the remaining parked packets and every
        // deferred event. A packet is parked or finished in phase 1, never both, but a parked packet may have
        // caused a master's death on its way (a dead entry found by its look-up): events sort
        // before the parked packet of the same index, and keep their own order (`order`).
        var steps: [(index: Int, order: Int, shard: Int, event: Shard.Deferred?)] = []
        for item in earlyDeaths {
            steps.append((item.index, steps.count, item.owner, item.event))
            if case .masterDied(let dead) = item.event, item.owner != routing.shard(of: dead.key) {
                deliveredAcross.masterDeathsSent += 1
            }
        }
        for (id, report) in reports.enumerated() {
            for index in report.parked where index >= limit { steps.append((index, Int.max, id, nil)) }
            for item in report.deferred {
                steps.append((item.index, steps.count, item.owner, item.event))
                if item.owner != id {
                    if case .expectation = item.event { deliveredAcross.expectationsSent += 1 } else { deliveredAcross.masterDeathsSent += 1 }
                }
            }
        }
        if steps.isEmpty { return }
        steps.sort { ($0.index, $0.order) < ($1.index, $1.order) }
        for step in steps {
            let time = replay.times[step.index % loopLength] &+ shift
            if let event = step.event {
                await shards[step.shard].deliver(event, time: time)
            } else {
                parked += 1
                await shards[step.shard].resolveParked(step.index, loopLength: loopLength, shift: shift,
                                                       dispatchedAt: dispatchedAt, peers: shards)
            }
        }
    }

    /// Every shard's figures, added up; plus the router's.
    public func summary() async -> DatapathSummary {
        var total = DatapathSummary()
        for shard in shards { total.merge(await shard.summary()) }
        total.router.windows = windows
        total.router.parkedPackets = parked
        total.router.expectationsSent += deliveredAcross.expectationsSent
        total.router.masterDeathsSent += deliveredAcross.masterDeathsSent
        return total
    }

    /// The connection table of every shard, one sorted dump.
    public func dumpConnections() async -> [String] {
        var lines: [String] = []
        for shard in shards { lines += await shard.dumpConnections() }
        return lines.sorted()
    }

    public func dumpExpectations() async -> [String] {
        var lines: [String] = []
        for shard in shards { lines += await shard.dumpExpectations() }
        return lines.sorted()
    }
}
