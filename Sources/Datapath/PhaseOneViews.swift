import TraceIO

/// How phase 1 reads a shard's receive queue: each entry's trace position, its record in the
/// buffer its frame is read from, and its trace time, without a bounds check per packet. Sound
/// because every queue entry is a position of the trace and there is one time per position
/// (both checked once, in `Shard.init`), and a receive buffer holds one record per queue entry.
///
/// Two kinds, picked once per walk (`Shard.withPhaseOneViews`) so that the walk is compiled for
/// each and branches on neither per packet: a lone shard's walk through one view that asked
/// which kind it was, for every packet, paid ~35 instructions a packet (docs/PERFORMANCE.md,
/// "Session 9").
protocol PhaseOneViews {
    /// Entries in the receive queue.
    var count: Int { get }
    /// Where the records' offsets point.
    var frames: UnsafeRawPointer { get }
    /// Queue entry k's trace position.
    func position(_ k: Int) -> Int
    /// Queue entry k's record in `frames`.
    func record(_ k: Int) -> PacketRecord
    /// Queue entry k's trace time (`TraceReplay.times`), before a loop's shift.
    func time(_ k: Int) -> UInt64
}

extension PhaseOneViews {
    /// How far ahead in the queue `stagedFrame` prefetches: 8 entries, not the replay loops'
    /// 32 (`TraceReplay.prefetchDistance`). A shard's window is tens of its packets (64 with two
    /// threads, four shards each, batch 256), and a frame prefetched near a window's end waited
    /// for the shard's next window, a whole window of the other shards later: the first load of
    /// a frame then held 47% of the parser's samples, against 27% in the lone shard's walk. With
    /// 8 shards on one thread (a local build), batch 256: +4.3% (4 pairs); batch 512: +4.2%;
    /// 16 entries, +0.5% at batch 256. The 1M-flow trace on two threads: equal (2 pairs).
    static var framePrefetchDistance: Int { 8 }

    /// The frame of queue entry `k`, prefetching the one `framePrefetchDistance` entries later.
    @inline(__always)
    func stagedFrame(_ k: Int) -> StagedFrame {
        let ahead = k &+ Self.framePrefetchDistance  // `k` indexes the queue: no overflow
        if ahead < count {
            TraceReplay.prefetchFrame(frames, record(ahead))
        }
        let record = record(k)
        return StagedFrame(bytes: record.frame(in: frames), wireLength: Int(record.wireLength), linkType: record.linkType)
    }
}

/// A shard with a receive buffer (two shards or more, the default): the records are the
/// buffer's, one per queue entry, in queue order.
struct ReceiveBufferViews: PhaseOneViews {
    let queue: UnsafeBufferPointer<Int32>
    let records: UnsafeBufferPointer<PacketRecord>
    let frames: UnsafeRawPointer

    var count: Int { queue.count }

    @inline(__always)
    func position(_ k: Int) -> Int { Int(queue[k]) }

    @inline(__always)
    func record(_ k: Int) -> PacketRecord { records[k] }

    /// From the record: the receive buffer keeps the trace time there (`ReceiveBuffer.records`).
    @inline(__always)
    func time(_ k: Int) -> UInt64 { records[k].timestampNanos }
}

/// A shard that reads the trace itself (`--shared-frames`; or alone, with a flow table): the
/// records are the trace's, by position.
struct SharedTraceViews: PhaseOneViews {
    let trace: Trace.UncheckedView
    let queue: UnsafeBufferPointer<Int32>
    /// The trace times, by position.
    let times: UnsafeBufferPointer<UInt64>
    /// The queue holds every position (one shard): entry k is position k.
    let isEveryPosition: Bool

    var count: Int { queue.count }
    var frames: UnsafeRawPointer { trace.frames }

    @inline(__always)
    func position(_ k: Int) -> Int { isEveryPosition ? k : Int(queue[k]) }

    @inline(__always)
    func record(_ k: Int) -> PacketRecord { trace.records[position(k)] }

    @inline(__always)
    func time(_ k: Int) -> UInt64 { times[position(k)] }
}
