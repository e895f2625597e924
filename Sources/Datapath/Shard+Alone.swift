import PacketParsing
import TraceIO

/// A shard that runs alone (`--threads 1`): it owns every connection and expectation and sees
/// every packet in trace order, so nothing is parked or deferred and there is no phase 2.
extension Shard {
    /// A datapath of one shard: every window in a row, in one call (nothing to wait for between
    /// windows: there is no phase 2 when one shard owns everything).
    /// Without latency measurement the windows are one: nothing observes their boundaries, and
    /// each boundary would drain the look-ahead.
    func runAlone(windowSize: Int, count: Int, base: Int, shift: UInt64) {
        precondition(routing.shardCount == 1)
        let windowSize = latency == nil ? Swift.max(count, 1) : windowSize
        var start = 0
        var report = WindowReport()
        while start < count {
            let range = start..<min(start + windowSize, count)
            runWindow(range, base: base, shift: shift, dispatchedAt: latency == nil ? 0 : LatencyRecorder.now(), into: &report)
            assert(report.parked.isEmpty && report.deferred.isEmpty)
            start = range.upperBound
        }
    }

    /// Phase 1 of the default pipeline for a shard that is alone: every packet of `range`
    /// (trace positions) through `DefaultPipeline.process`, in trace order, parsed ahead with
    /// prefetches, latency sampled as `walkWindow` samples it.
    ///
    /// A run without latency or verdict file (the benchmark's) takes a loop of its own that
    /// observes nothing: with the observing one, every packet paid ~25 instructions more (3-4%)
    /// to build the verdict for a sink that was not there and to count packets for a clock
    /// that was not read.
    func walkAlone(_ range: Range<Int>, base: Int, shift: UInt64, dispatchedAt: UInt64, into report: inout WindowReport) {
        report.reset(expectationCount: pipeline.partition.expectations.count)
        guard latency != nil || sink != nil else {
            walkTrace(range, base: base, shift: shift) { _, _ in }
            return
        }
        let timing = latency != nil  // asked once: testing the optional per packet copies it
        let started = timing ? LatencyRecorder.now() : 0
        var sinceClock = 0  // packets finished since the last clock read
        walkTrace(range, base: base, shift: shift) { k, verdict in
            sink?.write(verdict, at: base + k)
            sinceClock += 1
            if timing && sinceClock >= LatencyRecorder.sampleEvery {
                latency!.packetsDone(sinceClock, dispatchedAt: dispatchedAt, now: LatencyRecorder.now())
                sinceClock = 0
            }
        }
        if timing {
            let now = LatencyRecorder.now()
            latency!.packetsDone(sinceClock, dispatchedAt: dispatchedAt, now: now)
            if !range.isEmpty { latency!.batchServed(from: started, to: now) }
        }
    }

    /// Every packet of `range` through `DefaultPipeline.process`, in trace order; `observe`
    /// sees each verdict with the packet's trace position. Its queue is every position and it
    /// has no receive buffer (it reads the trace, which no one else reads), so records, times
    /// and frames are read by position, as the single-partition loop reads them: through the
    /// queue (`walkWindow`), every packet paid ~35 instructions more (5%; 6% of the time).
    @inline(__always)
    private func walkTrace(_ range: Range<Int>, base: Int, shift: UInt64, _ observe: (Int, PacketVerdict) -> Void) {
        precondition(queueIsEveryPosition && receiveBuffer == nil)  // one time per packet: `init` checks it
        let pipeline = pipeline
        trace.withUncheckedView { view in
            times.withUnsafeBufferPointer { times in
                pipeline.forEachStaged(range, of: view.records.count, frame: { k in
                    TraceReplay.stagedFrame(k, in: view)
                }) { k, packet, outcome, hash, entryGuess in
                    let verdict = pipeline.process(packet, outcome: outcome, hash: hash, frame: view.frame(k),
                                                   wireLength: Int(view.records[k].wireLength), index: base &+ k,
                                                   time: times[k] &+ shift, entryGuess: entryGuess)
                    observe(k, verdict)
                }
            }
        }
    }
}
