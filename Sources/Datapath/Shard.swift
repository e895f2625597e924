import ApplicationGateways
import Conntrack
import CPrefetch
import FlowTable
import PacketParsing
import TraceIO

/// One shard of the sharded datapath: it owns a conntrack partition with its ALG helpers (a
/// `DefaultPipeline`) and the expectations whose owner hash picks it.
///
/// Phase 1 of a window (`runWindow`, all shards at once, each on its own thread): the shard
/// takes the packets of the window that hash to it, in trace order, and finishes every one that
/// hits a live connection; a packet that misses is parked. Expectations announced and masters
/// that died are not applied but returned, stamped with their packet index. Phase 2
/// (`resolveLocally` on every shard at once, then `resolveParked` and `deliver` one call at a
/// time in trace order, driven by `WindowLoop`): parked packets are finished with the
/// expectation state exactly as it stood at their index, asking the owner shards.
/// With a flow table (`flows`), the same phases run the policy (`Shard+Flows.swift`).
///
/// `@unchecked Sendable`: a shard is not an actor (one actor call per window and per parked
/// packet cost more than the work; see docs/PERFORMANCE.md) but keeps an actor's rule by
/// construction: its state is touched by one thread at a time. In phase 1 and phase 2a only
/// its own worker thread calls it; in phase 2b only the coordinator does, while every other
/// worker waits at the window barrier, whose acquire/release ordering publishes the state
/// from one phase to the next. The ThreadSanitizer run of the test suite checks it.
public final class Shard: @unchecked Sendable {
    public let id: Int
    let pipeline: DefaultPipeline
    /// The flow-table policy over `pipeline`'s partition (`--flows`), or nil for the default pipeline.
    let flows: FlowPipeline?
    let routing: ShardRouting
    let trace: Trace
    let times: [UInt64]
    let sink: VerdictSink?
    /// Trace positions of this shard's packets, ascending: its receive queue (see
    /// `ShardedDatapath.dispatch`).
    let queue: [Int32]
    /// The queue holds every packet of the trace (one shard), so queue entry k is position k:
    /// the walk then skips reading the queue (three loads and bounds checks a packet).
    let queueIsEveryPosition: Bool
    /// This shard's own copy of its frames, which phase 1 reads (nil for a lone shard, whose
    /// queue is the whole trace: it reads the trace itself, which no one else reads; and when
    /// the datapath was made without receive buffers).
    let receiveBuffer: ReceiveBuffer?
    /// `receiveBuffer`'s records and frames, read by phase 1 without retaining the buffer (a
    /// retain and release of it a shard window; the buffer lives as long as the shard).
    private let receiveMemory: (records: UnsafeBufferPointer<PacketRecord>, frames: UnsafeRawPointer)?
    var router = RouterStats()
    /// Where the last window walked ended: its end's trace position and queue entry.
    private var lastEnd = (position: -1, entry: 0)
    /// Latency histograms, when measured (`nil`: no clock reads at all).
    var latency: LatencyRecorder?

    init(id: Int, pipeline: DefaultPipeline, flows: FlowPipeline? = nil, routing: ShardRouting, trace: Trace,
         times: [UInt64], queue: [Int32], sink: VerdictSink?, measureLatency: Bool, receiveBuffers: Bool = true) {
        self.id = id
        latency = measureLatency ? LatencyRecorder() : nil
        // Ascending positions of the trace: the walk reads the trace through them unchecked.
        precondition(queue.isEmpty || (queue[0] >= 0 && Int(queue[queue.count - 1]) < trace.count),
                     "Shard: a queue entry outside the trace")
        self.queue = queue
        queueIsEveryPosition = queue.count == trace.count
        self.pipeline = pipeline
        self.flows = flows
        self.routing = routing
        self.trace = trace
        precondition(times.count == trace.count, "Shard: one trace time per packet")
        self.times = times
        self.sink = sink
        receiveBuffer = queueIsEveryPosition || !receiveBuffers ? nil : ReceiveBuffer(trace: trace, queue: queue, times: times)
        receiveMemory = receiveBuffer.map { (UnsafeBufferPointer($0.records), UnsafeRawPointer($0.frames)) }
    }

    /// Something phase 1 did not apply, for the router to deliver in trace order.
    enum Deferred: Sendable {
        case expectation(Expectation)
        case masterDied(DeadMaster)
    }

    /// What phase 1 leaves for phase 2: parked packet indices (ascending) and deferred events.
    struct WindowReport: Sendable {
        var parked: [Int] = []
        var deferred: [(index: Int, owner: Int, event: Deferred)] = []
        /// Index of the first parked packet that could announce an expectation (`Int.max`: none).
        var firstMayAnnounce = Int.max
        /// Expectations this shard owns (unchanged by phase 1).
        var expectationCount = 0
        /// To a cache line's size (64 bytes): `WindowLoop` keeps the reports a line each.
        private var padding: (Int, Int, Int, Int) = (0, 0, 0, 0)

        /// Empties the report for a new window, keeping its lists' memory.
        mutating func reset(expectationCount: Int) {
            if !parked.isEmpty { parked.removeAll(keepingCapacity: true) }
            if !deferred.isEmpty { deferred.removeAll(keepingCapacity: true) }
            firstMayAnnounce = Int.max
            self.expectationCount = expectationCount
        }
    }

    // MARK: - Phase 1

    /// Processes this shard's packets among `range` (trace positions of one loop), with global
    /// index `base + position` and time `times[position] + shift`, reporting into `report`
    /// (emptied first: the caller's slot is written in place, its lists' memory kept; a
    /// report returned by value was copied and its lists retained and released, ~200
    /// instructions a shard window).
    ///
    /// A packet that misses is committed at once instead of parked when `relatedness` says it
    /// cannot be related (no live expectation for it in its owner's table, no announcer of the
    /// window before it between the same two addresses), it cannot announce one itself, and no
    /// packet of this shard's window has been parked yet.
    func runWindow(_ range: Range<Int>, base: Int, shift: UInt64, dispatchedAt: UInt64,
                   relatedness: RelatednessCheck? = nil, into report: inout WindowReport) {
        if let flows {
            return runFlowWindow(flows, range, base: base, shift: shift, dispatchedAt: dispatchedAt,
                                 relatedness: relatedness, into: &report)
        }
        if routing.shardCount == 1 {
            // Alone, this shard owns every expectation and sees every packet in trace order: the
            // ordering rule holds without parking (it is the reference loop).
            return walkAlone(range, base: base, shift: shift, dispatchedAt: dispatchedAt, into: &report)
        }
        // A run without latency or verdict file (the benchmark's) takes a walk that observes
        // nothing (`observing` false: no clock counting, no verdict built for a sink), as the
        // lone shard's does (`walkAlone`).
        if latency == nil && sink == nil {
            return walkDefault(range, base: base, shift: shift, dispatchedAt: dispatchedAt, relatedness: relatedness,
                               observing: false, into: &report)
        }
        walkDefault(range, base: base, shift: shift, dispatchedAt: dispatchedAt, relatedness: relatedness,
                    observing: true, into: &report)
    }

    /// Phase 1 of the default pipeline over this shard's packets among `range`: the TCP lane's
    /// hits finished in line, everything else out of line (`phaseOneGeneral`). `observing`
    /// (a constant at each call) says whether verdicts and packet counts are written for the
    /// sink and the latency clock.
    @inline(__always)
    private func walkDefault(_ range: Range<Int>, base: Int, shift: UInt64, dispatchedAt: UInt64,
                             relatedness: RelatednessCheck?, observing: Bool, into report: inout WindowReport) {
        let frames = phaseOneFrames
        // The closure reaches the shard unretained: captured strongly, the shard was retained
        // and released at every shard window (the walk takes the closure's captures owned).
        let unretained = Unmanaged.passUnretained(self)
        walkWindow(range, base: base, dispatchedAt: dispatchedAt, observing: observing, into: &report) {
            position, index, record, traceTime, pointer, outcome, hash, entryGuess, report in
            unretained._withUnsafeGuaranteedRef { shard in
                let frame = record.frame(in: frames)
                let time = traceTime &+ shift
                // The TCP lane's hits in line; everything else out of line (`phaseOneGeneral`):
                // in one closure, every packet was a call with a 1.7 KB frame.
                var lanePrechecked: Bool?, laneMissed = false
                if outcome == .ok {
                    let lane = shard.pipeline.tcpLane(pointer, frame: frame, hash: hash, time: time, entryGuess: entryGuess)
                    if let verdict = lane.verdict {
                        shard.pipeline.countParsed(outcome, wireLength: Int(record.wireLength))
                        return shard.settle(verdict, at: index, mayAnnounce: false, into: &report, observing: observing)
                    }
                    lanePrechecked = lane.prechecked
                    laneMissed = lane.missed
                }
                return shard.phaseOneGeneral(pointer, outcome: outcome, frame: frame, wireLength: Int(record.wireLength),
                                             position: position, index: index, time: time, hash: hash,
                                             lanePrechecked: lanePrechecked, laneMissed: laneMissed,
                                             relatedness: relatedness, into: &report)
            }
        }
    }

    /// Phase 1 for a packet the TCP lane did not finish (`lanePrechecked`: whether the lane ran
    /// the precheck, nil when it was not tried; `laneMissed`: the lane found no entry for the
    /// key): admit, the general look-up, and for a miss the commit at once or the parking.
    @inline(never)
    func phaseOneGeneral(_ pointer: UnsafePointer<ParsedPacket>, outcome: ParseOutcome, frame: UnsafeRawBufferPointer,
                         wireLength: Int, position: Int, index: Int, time: UInt64, hash: UInt64,
                         lanePrechecked: Bool?, laneMissed: Bool, relatedness: RelatednessCheck?,
                         into report: inout WindowReport) -> Bool {
        if let done = pipeline.admit(outcome, wireLength: wireLength) {
            sink?.write(done, at: index)
            return true
        }
        // (An IP packet always met the lane: `admit` finished every other outcome.)
        var verdict = laneMissed ? nil : pipeline.lookupGeneral(pointer.pointee, frame: frame, index: index, time: time,
                                                               hash: hash, prechecked: lanePrechecked ?? false) {
            expectation in
            report.deferred.append((index, routing.owner(of: expectation.key), .expectation(expectation)))
        }
        // Committed at once only while nothing of this shard's window is parked (a parked
        // packet commits later in phase 2: a later packet of its connection, or an ICMP error
        // quoting it, must not get ahead of it), and only if it cannot announce itself.
        let mayAnnounce = verdict == nil && pipeline.mayAnnounce(pointer.pointee)
        if verdict == nil, report.parked.isEmpty, !mayAnnounce, let relatedness,
           relatedness.cannotBeRelated(pointer.pointee.key, position: position, time: time) {
            deferDeaths(at: index, into: &report)
            verdict = (laneMissed ? pipeline.commitMissedSegment(pointer, hash: hash, index: index, time: time) : nil)
                ?? pipeline.commit(pointer.pointee, frame: frame, index: index, time: time, hash: hash, expected: nil,
                                   consume: { _ in }, emit: { _ in
                    preconditionFailure("runWindow: a packet that cannot announce announced")
                })
        }
        return settle(verdict, at: index, mayAnnounce: mayAnnounce, into: &report)
    }

    /// Phase 1's walk over this shard's packets among `range`, in trace order, parsed ahead with
    /// prefetches (`forEachStaged`) and latency sampled: `body(position, index, record, time,
    /// packet, outcome, hash, entryGuess, &report)` handles one packet (`time`: its trace time,
    /// before the loop's shift; `hash`: its flow hash in zone 0;
    /// `entryGuess`: the look-ahead's guess of its entry, or -1) and says
    /// whether it finished it (a parked packet is timed when phase 2 finishes it). `record` is
    /// the packet's record in the buffer phase 1 reads (`PhaseOneViews.frames`). With
    /// `observing` false (a constant at the call) nothing is counted for the latency clock.
    @inline(__always)
    func walkWindow(_ range: Range<Int>, base: Int, dispatchedAt: UInt64, observing: Bool = true,
                    into report: inout WindowReport,
                    _ body: (Int, Int, PacketRecord, UInt64, UnsafePointer<ParsedPacket>, ParseOutcome, UInt64, Int,
                             inout WindowReport) -> Bool) {
        let timing = observing && latency != nil  // asked once: testing the optional per packet copies it
        let started = timing ? LatencyRecorder.now() : 0
        // Windows come in order: this one starts where the last ended (`lastEnd`), and its end
        // is found by reading on from there, through the entries the walk reads next (a binary
        // search over the window's length of the queue missed the cache at each of its first
        // probes: ~3.5% of two-thread worker samples with four shards a thread).
        let first = lastEnd.position == range.lowerBound ? lastEnd.entry : firstQueued(atOrAfter: range.lowerBound)
        let end = queue.withUnsafeBufferPointer { queue in
            // Eight entries a step, then one: a shard's share of a window is tens of entries.
            var end = first
            while end + 8 <= queue.count && Int(queue[end + 7]) < range.upperBound { end += 8 }
            while end < queue.count && Int(queue[end]) < range.upperBound { end += 1 }
            return end
        }
        lastEnd = (range.upperBound, end)
        var sinceClock = 0  // packets finished since the last clock read
        defer {
            if timing {
                let now = LatencyRecorder.now()
                latency!.packetsDone(sinceClock, dispatchedAt: dispatchedAt, now: now)
                if end > first { latency!.batchServed(from: started, to: now) }
            }
        }
        report.reset(expectationCount: pipeline.partition.expectations.count)
        withPhaseOneViews({
            walkQueue($0, first..<end, base: base, dispatchedAt: dispatchedAt, timing: timing, sinceClock: &sinceClock,
                      into: &report, body)
        }, {
            walkQueue($0, first..<end, base: base, dispatchedAt: dispatchedAt, timing: timing, sinceClock: &sinceClock,
                      into: &report, body)
        })
    }

    /// `walkWindow`'s loop over queue entries `entries`, read through `views`: a method, not a
    /// function nested in the walk, whose context (holding the shard) was retained and released
    /// at every shard window.
    private func walkQueue<Views: PhaseOneViews>(
        _ views: Views, _ entries: Range<Int>, base: Int, dispatchedAt: UInt64, timing: Bool, sinceClock: inout Int,
        into report: inout WindowReport,
        _ body: (Int, Int, PacketRecord, UInt64, UnsafePointer<ParsedPacket>, ParseOutcome, UInt64, Int,
                 inout WindowReport) -> Bool
    ) {
        // Staged by queue index: the walk over this window stages the next window's first packets.
        pipeline.forEachStaged(entries, of: views.count, frame: { k in
            views.stagedFrame(k)
        }) { k, packet, outcome, hash, entryGuess in
            let position = views.position(k)
            if timing && sinceClock >= LatencyRecorder.sampleEvery {
                latency!.packetsDone(sinceClock, dispatchedAt: dispatchedAt, now: LatencyRecorder.now())
                sinceClock = 0
            }
            if body(position, base &+ position, views.record(k), views.time(k), packet, outcome, hash, entryGuess,
                    &report) && timing {
                sinceClock += 1
            }
        }
    }

    /// Where phase 1's records point (`walkWindow`'s `record`): the receive buffer, or the
    /// trace without one.
    var phaseOneFrames: UnsafeRawPointer { receiveMemory?.frames ?? trace.buffer.baseAddress! }

    /// Calls `buffered` with this shard's receive-buffer views, or `shared` with its views of the
    /// trace when it has no receive buffer (`PhaseOneViews`: pass one generic function twice,
    /// and it is compiled for each kind).
    @inline(__always)
    func withPhaseOneViews<R>(_ buffered: (ReceiveBufferViews) -> R, _ shared: (SharedTraceViews) -> R) -> R {
        queue.withUnsafeBufferPointer { queue in
            if let receiveMemory {
                return buffered(ReceiveBufferViews(queue: queue, records: receiveMemory.records, frames: receiveMemory.frames))
            }
            return trace.withUncheckedView { trace in
                times.withUnsafeBufferPointer { times in
                    shared(SharedTraceViews(trace: trace, queue: queue, times: times, isEveryPosition: queueIsEveryPosition))
                }
            }
        }
    }

    /// Parses a few more of this shard's coming packets ahead of their window (stateless work
    /// for a worker waiting at the barrier after phase 1). False when there is nothing more to
    /// stage now.
    func stageAhead() -> Bool {
        withPhaseOneViews({ stageAhead($0) }, { stageAhead($0) })
    }

    /// `stageAhead` through `views` (a method: a nested function's context, holding the shard,
    /// was retained and released at every call).
    private func stageAhead<Views: PhaseOneViews>(_ views: Views) -> Bool {
        pipeline.stageAhead(of: views.count, chunk: 4) { k in views.stagedFrame(k) }
    }

    /// The end of a packet's phase 1: its deaths deferred, then its verdict written (true; to
    /// the sink when `observing`) or the packet parked (false), noting the first parked packet
    /// that may announce.
    @inline(__always)
    func settle(_ verdict: PacketVerdict?, at index: Int, mayAnnounce: @autoclosure () -> Bool,
                into report: inout WindowReport, observing: Bool = true) -> Bool {
        deferDeaths(at: index, into: &report)
        if let verdict {
            if observing { sink?.write(verdict, at: index) }
            return true
        }
        report.parked.append(index)
        if report.firstMayAnnounce == Int.max && mayAnnounce() { report.firstMayAnnounce = index }
        return false
    }

    /// The first entry of the receive queue at or after trace position `position` (the queue
    /// is ascending: binary search).
    private func firstQueued(atOrAfter position: Int) -> Int {
        var low = 0, high = queue.count
        while low < high {
            let mid = (low + high) / 2
            if Int(queue[mid]) < position { low = mid + 1 } else { high = mid }
        }
        return low
    }

    func deferDeaths(at index: Int, into report: inout WindowReport) {
        // Deaths are kept (time 0: forget none) until the window's phase 2 begins.
        pipeline.forgetClosedALGConnections(time: 0) { dead in
            report.deferred.append((index, routing.owner(of: dead), .masterDied(dead)))
        }
    }

    // MARK: - Phase 2

    /// Starts phase 2 of a window whose first packet has trace time `time`: no question will be
    /// about an earlier time, so expired expectations and old master deaths can go.
    func beginPhaseTwo(windowStart time: UInt64) {
        pipeline.partition.expectations.expire(time: time)
        pipeline.partition.forgetDeadMasters(before: time)
    }

    /// Applies a deferred event to this shard's expectations (its owner).
    func deliver(_ event: Deferred, time: UInt64) {
        switch event {
        case .expectation(let expectation): pipeline.partition.expectations.create(expectation, time: time)
        case .masterDied(let dead): pipeline.partition.expectations.removeAll(ofMaster: dead.id)
        }
    }

    /// Finishes parked packets (ascending) when no expectation can be involved: none is live
    /// anywhere and none of these packets, nor any packet before them in the window, can
    /// announce one (the coordinator checked). Runs in parallel with the other shards; returns
    /// the masters that died on the way, for delivery in trace order.
    func resolveLocally(_ indices: [Int], loopLength: Int, shift: UInt64, dispatchedAt: UInt64)
        -> [(index: Int, owner: Int, event: Deferred)] {
        var deaths: [(index: Int, owner: Int, event: Deferred)] = []
        var packet = ParsedPacket()
        for index in indices {
            let position = index % loopLength
            let record = trace.records[position]
            let frame = trace.frame(position)
            let time = times[position] &+ shift
            _ = PacketParser(linkType: record.linkType).parse(frame, wireLength: Int(record.wireLength), into: &packet)
            let verdict: PacketVerdict
            if let flows {
                verdict = flows.resolveLocally(packet, key: flows.key(of: packet, record: record), frame: frame,
                                               index: index, time: time)
            } else {
                verdict = pipeline.lookup(packet, frame: frame, index: index, time: time, retry: true) { _ in
                    preconditionFailure("resolveLocally: a packet announced an expectation")
                } ?? pipeline.commit(packet, frame: frame, index: index, time: time, expected: nil, consume: { _ in },
                                     emit: { _ in preconditionFailure("resolveLocally: a packet announced an expectation") })
            }
            sink?.write(verdict, at: index)
            pipeline.forgetClosedALGConnections(time: 0) { dead in
                deaths.append((index, routing.owner(of: dead), .masterDied(dead)))
            }
            latency?.packetsDone(1, dispatchedAt: dispatchedAt, now: LatencyRecorder.now())
        }
        return deaths
    }

    /// Finishes a parked packet: its connection may exist by now (an earlier parked packet made
    /// it); if not, the expectation it may match is asked of its owner, the master's liveness of
    /// the master's shard, and the commit's consumption told back. Events it causes are
    /// delivered at once (its index is the current position in trace order).
    /// `peers` are every shard of the datapath, indexed by id (passed in, not kept: shards that
    /// held each other would never be freed).
    func resolveParked(_ index: Int, loopLength: Int, shift: UInt64, dispatchedAt: UInt64, peers: [Shard]) {
        defer { latency?.packetsDone(1, dispatchedAt: dispatchedAt, now: LatencyRecorder.now()) }
        let position = index % loopLength
        let record = trace.records[position]
        let frame = trace.frame(position)
        let time = times[position] &+ shift
        var packet = ParsedPacket()
        _ = PacketParser(linkType: record.linkType).parse(frame, wireLength: Int(record.wireLength), into: &packet)
        var announced: [Expectation] = []
        var verdict: PacketVerdict?
        if let flows {
            verdict = resolveFlowParked(flows, packet, record: record, frame: frame, index: index, time: time,
                                        peers: peers, announced: &announced)
        } else {
            verdict = pipeline.lookup(packet, frame: frame, index: index, time: time, retry: true) { announced.append($0) }
        }
        if verdict == nil {
            let expected = expectation(for: packet.key, time: time, peers)
            var consumed = false
            verdict = pipeline.commit(packet, frame: frame, index: index, time: time, expected: expected,
                                      consume: { _ in consumed = true }, emit: { announced.append($0) })
            if consumed { consume(packet.key, time: time, peers) }
        }
        if let verdict { sink?.write(verdict, at: index) }
        var events = announced.map { (owner: routing.owner(of: $0.key), event: Deferred.expectation($0)) }
        // Deaths are kept (time 0: forget none) until the window's phase 2 begins.
        pipeline.forgetClosedALGConnections(time: 0) { dead in
            events.append((routing.owner(of: dead), .masterDied(dead)))
        }
        for (owner, event) in events {
            if owner == id {
                deliver(event, time: time)
            } else {
                if case .expectation = event { router.expectationsSent += 1 } else { router.masterDeathsSent += 1 }
                peers[owner].deliver(event, time: time)
            }
        }
    }

    /// The live expectation a new connection `key` (zone set) matches at `time`, asked of its
    /// owner, if its master was alive then too (asked of the master's shard).
    func expectation(for key: FlowKey, time: UInt64, _ peers: [Shard]) -> Expectation? {
        let owner = routing.owner(of: ExpectationKey(firstPacketOf: key))
        let expected = ask(owner, peers) { $0.peek(key, time: time) }
        if let candidate = expected, !isMasterAlive(candidate, at: time, peers) { return nil }
        return expected
    }

    /// Tells the owner of `key`'s expectation that a commit used it.
    func consume(_ key: FlowKey, time: UInt64, _ peers: [Shard]) {
        _ = ask(routing.owner(of: ExpectationKey(firstPacketOf: key)), peers) { $0.consume(key, time: time) }
    }

    /// Whether an expectation's master was alive at `time`, asked of the master's shard.
    private func isMasterAlive(_ expectation: Expectation, at time: UInt64, _ peers: [Shard]) -> Bool {
        let masterShard = routing.shard(of: expectation.masterKey)
        if masterShard == id { return masterAlive(expectation, at: time) }
        router.masterChecksSent += 1
        return peers[masterShard].masterAlive(expectation, at: time)
    }

    /// Runs `question` on shard `owner`: here when it is this shard, else as a message.
    private func ask(_ owner: Int, _ peers: [Shard], _ question: (Shard) -> Expectation?) -> Expectation? {
        if owner != id { router.lookupsSent += 1 }
        return question(peers[owner])
    }

    func peek(_ key: FlowKey, time: UInt64) -> Expectation? {
        pipeline.partition.expectations.peek(key, time: time)
    }

    func consume(_ key: FlowKey, time: UInt64) -> Expectation? {
        pipeline.partition.expectations.consume(key, time: time)
    }

    func masterAlive(_ expectation: Expectation, at time: UInt64) -> Bool {
        pipeline.partition.masterAlive(id: expectation.masterID, key: expectation.masterKey, at: time)
    }

    /// This shard's figures.
    func summary() -> DatapathSummary {
        var summary = DatapathSummary(pipeline)
        if let flows { summary.actions = flows.actions }
        summary.router = router
        summary.latency = latency
        return summary
    }

    func dumpConnections() -> [String] { pipeline.partition.dumpConnections() }
    func dumpExpectations() -> [String] { pipeline.partition.expectations.dump() }
}
