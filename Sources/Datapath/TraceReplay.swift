import CPrefetch
import PacketParsing
import TraceIO

/// Replays a preloaded trace through a pipeline (`ReplayPipeline`: the default one or a flow
/// table) in trace order, `loops` times.
///
/// Trace time: a packet's time is the largest capture timestamp seen up to it in trace order
/// (a timestamp that goes backwards is clamped forward), so time is monotonic and the same for
/// any sharding. Each loop is shifted by the trace's duration plus 1 µs. Packet indices keep
/// counting across loops, so connection ids stay unique.
public struct TraceReplay {
    public let trace: Trace
    /// Monotonic trace time of each packet of one loop (ns).
    public let times: [UInt64]
    /// Trace time offset added per loop.
    public let loopShift: UInt64

    public init(trace: Trace) {
        self.trace = trace
        var times: [UInt64] = []
        times.reserveCapacity(trace.count)
        var latest: UInt64 = 0
        for record in trace.records {
            latest = max(latest, record.timestampNanos)
            times.append(latest)
        }
        self.times = times
        // Saturating: a damaged capture may hold times near the end of UInt64's range.
        let span = (times.last ?? 0) - (times.first ?? 0)
        loopShift = span > UInt64.max - 1_000 ? UInt64.max : span + 1_000
    }

    /// Trace time added to the times of loop `loop`. Wrapping, like the additions of it to each
    /// time: only a damaged capture, with times near the end of UInt64's range, ever wraps.
    @inlinable
    public func shift(ofLoop loop: Int) -> UInt64 { UInt64(loop) &* loopShift }

    /// Runs loop number `loop` (0-based) through `pipeline`; `onVerdict` sees every verdict
    /// with its global packet index.
    @inlinable
    public func run<Pipeline: ReplayPipeline>(loop: Int, through pipeline: Pipeline,
                                              _ onVerdict: (Int, PacketVerdict) -> Void = { _, _ in }) {
        var notTimed: LatencyRecorder? = nil
        run(loop: loop, through: pipeline, latency: &notTimed, onVerdict)
    }

    /// How many packets ahead the replay prefetches a frame's first cache line: far enough to
    /// hide a memory miss behind the work on the packets in between.
    public static let prefetchDistance = 32

    /// Prefetches the first four cache lines from a frame's start: its headers, and the payload
    /// that the checksum and the ALGs read. Always four, whatever the frame's length: a loop
    /// over its lines mispredicted whenever long and short frames alternated (the anchor
    /// trace's 64- and 256-byte segments), and the lines past a short frame are the next
    /// frames' (the trace is contiguous). A prefetch never faults, even past the buffer's end.
    @inlinable @inline(__always)
    static func prefetchFrame(_ buffer: UnsafeRawPointer, _ record: PacketRecord) {
        let start = buffer + Int(truncatingIfNeeded: record.offset)  // an offset into `buffer`
        ct_prefetch(start)
        ct_prefetch(start + 64)
        ct_prefetch(start + 128)
        ct_prefetch(start + 192)
    }

    /// Packet `k` of a trace as the look-ahead stages it, the frame `prefetchDistance` packets
    /// later prefetched (the replay loops that walk the trace in order: this one and a lone
    /// shard's, `Shard.walkAlone`).
    @inlinable @inline(__always)
    static func stagedFrame(_ k: Int, in view: Trace.UncheckedView) -> StagedFrame {
        // `k` is a record's index: adding the distance cannot overflow.
        if k &+ prefetchDistance < view.records.count {
            prefetchFrame(view.frames, view.records[k &+ prefetchDistance])
        }
        return StagedFrame(bytes: view.frame(k), wireLength: Int(view.records[k].wireLength),
                           linkType: view.records[k].linkType)
    }

    /// The same, timing the loop into `latency` when it is not nil: batches of
    /// `LatencyRecorder.sampleEvery` packets; each batch's service time, and each packet's time
    /// from the start of its batch to its end (the single-partition loop has no queue).
    @inlinable
    public func run<Pipeline: ReplayPipeline>(loop: Int, through pipeline: Pipeline, latency: inout LatencyRecorder?,
                                              _ onVerdict: (Int, PacketVerdict) -> Void = { _, _ in }) {
        let base = loop * trace.count  // checked once; `base &+ i` below is at most the next loop's base
        let shift = shift(ofLoop: loop)
        let timing = latency != nil  // asked once: testing the optional per packet copies it
        var batchStart = timing ? LatencyRecorder.now() : 0
        var inBatch = 0
        // Records and times read without a bounds check per packet: `i` runs over 0..<count,
        // and `times` holds count elements (checked here once).
        precondition(times.count == trace.count)
        trace.withUncheckedView { view in
            times.withUnsafeBufferPointer { times in
                pipeline.core.forEachStaged(count: view.records.count, frame: { i in
                    TraceReplay.stagedFrame(i, in: view)
                }) { i, packet, outcome, hash, entryGuess in
                    let verdict = pipeline.process(packet, outcome: outcome, hash: hash, frame: view.frame(i),
                                                   record: view.records[i], index: base &+ i, time: times[i] &+ shift,
                                                   entryGuess: entryGuess)
                    onVerdict(base &+ i, verdict)
                    guard timing else { return }
                    inBatch += 1
                    if inBatch == LatencyRecorder.sampleEvery || i == view.records.count - 1 {
                        let end = LatencyRecorder.now()
                        latency!.packetsDone(inBatch, dispatchedAt: batchStart, now: end)
                        latency!.batchServed(from: batchStart, to: end)
                        batchStart = end
                        inBatch = 0
                    }
                }
            }
        }
    }

    /// Parses every packet once and counts outcomes (the parser alone, for its throughput).
    public func parseAll() -> [UInt64] {
        var outcomes = [UInt64](repeating: 0, count: ParseOutcome.allCases.count)
        var packet = ParsedPacket()
        let records = trace.records
        let base = trace.buffer.baseAddress
        for i in 0..<trace.count {
            if i + TraceReplay.prefetchDistance < records.count, let base {
                ct_prefetch(base + Int(records[i + TraceReplay.prefetchDistance].offset))
            }
            let record = records[i]
            let outcome = PacketParser(linkType: record.linkType)
                .parse(trace.frame(i), wireLength: Int(record.wireLength), into: &packet)
            outcomes[Int(outcome.rawValue)] &+= 1
        }
        return outcomes
    }
}
