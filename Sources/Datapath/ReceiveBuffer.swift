#if canImport(Glibc)
import Glibc
#endif
import TraceIO

/// A shard's own copy of its frames, contiguous in receive-queue order, with their records
/// (offsets into this copy), made before the clock starts: as a NIC with receive-side scaling
/// writes each queue's packets into that queue's own ring.
///
/// Phase 1 reads its frames from here, never from the shared trace. In the shared trace the
/// shards' frames are interleaved: both workers walk the same buffer window by window, so
/// nearly every cache line a worker fetched was soon fetched by the other too, from the first
/// one's cache. On this machine's vCPUs that transfer takes ~30 ns when they sit close and
/// ~170-230 ns when they do not (`scripts/vcpu-distance.sh`), and the far placement had
/// cut two-thread throughput by a third (docs/PERFORMANCE.md, "Session 8").
///
/// Immutable after `init` (hence `@unchecked Sendable`): its bytes are the trace's bytes.
final class ReceiveBuffer: @unchecked Sendable {
    /// The frames, one after another, each at its record's `offset`.
    let frames: UnsafeMutableRawPointer
    /// Queue entry k's record: the trace's, but for `offset` (where the frame sits in this
    /// buffer) and `timestampNanos`, which holds the packet's trace time (`TraceReplay.times`:
    /// the capture time clamped to never go back), so that phase 1 reads it from the line it
    /// reads the record from; from the trace's own array, indexed by position, it missed the
    /// cache on most of a shard's packets (a shard's packets are spread over the trace).
    /// Owned memory, not an array: phase 1 reads it once a window, and an array's buffer was
    /// retained and released at each of those reads (~70 instructions a shard window).
    let records: UnsafeMutableBufferPointer<PacketRecord>
    /// Bytes of `frames` in use.
    let byteCount: Int

    /// Copies the frames of trace positions `queue`, in that order, with their trace times
    /// (`times`, by trace position). Each frame starts on a cache line, as in the trace
    /// (`TraceAssembler.frameAlignment`): packed back to back, a frame's headers straddled two
    /// lines as often as not, and the parse waited for both.
    init(trace: Trace, queue: [Int32], times: [UInt64]) {
        var total = 0
        for position in queue { total = TraceAssembler.frameStart(after: total) + trace.frame(Int(position)).count }
        byteCount = total
        frames = ReceiveBuffer.allocate(byteCount: total + 64)  // slack: the frame prefetch reads past the end
        records = .allocate(capacity: queue.count)
        var offset = 0
        for (k, position) in queue.enumerated() {
            offset = TraceAssembler.frameStart(after: offset)
            let frame = trace.frame(Int(position))
            if let source = frame.baseAddress { (frames + offset).copyMemory(from: source, byteCount: frame.count) }
            var record = trace.records[Int(position)]
            record.offset = UInt64(offset)
            record.timestampNanos = times[Int(position)]
            (records.baseAddress! + k).initialize(to: record)
            offset += frame.count
        }
    }

    deinit {
        free(frames)
        records.deinitialize()
        records.deallocate()
    }

    /// Memory for the copies: on 2 MiB boundaries with transparent huge pages requested, like
    /// the trace's own buffer (a stream of frames crosses a 4 KiB page every ~20 packets; on
    /// this machine the two measured the same, within the noise); cache-line aligned below 2 MiB.
    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let hugePage = 2 << 20
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, byteCount >= hugePage ? hugePage : 64, byteCount) == 0, let memory else {
            fatalError("ReceiveBuffer: cannot allocate \(byteCount) bytes")
        }
        #if canImport(Glibc)
        if byteCount >= hugePage { _ = madvise(memory, byteCount, MADV_HUGEPAGE) }  // advice only
        #endif
        return memory
    }

    /// Queue entry k's captured bytes.
    func frame(_ k: Int) -> UnsafeRawBufferPointer { records[k].frame(in: frames) }
}
