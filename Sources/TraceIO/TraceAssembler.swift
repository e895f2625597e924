import Glibc
import PacketParsing

/// Accumulates frames into one contiguous, growable byte buffer and turns them into a `Trace`.
///
/// The buffer grows by doubling (`realloc`), so appending is amortised O(1) and the finished
/// trace holds every frame back to back in a single allocation. Used by `TraceLoader`, by
/// `Trace(concatenating:)` and by anything that builds traces in memory.
public final class TraceAssembler {
    private var base: UnsafeMutableRawPointer?
    private var capacity: Int
    private var used: Int = 0
    private var records: [PacketRecord] = []

    /// - Parameter capacity: expected total frame bytes (the buffer grows past it if needed).
    public init(capacity: Int = 1 << 16, expectedPackets: Int = 0) {
        self.capacity = max(capacity, 64)
        guard let p = malloc(self.capacity) else { fatalError("TraceAssembler: out of memory (\(capacity) bytes)") }
        self.base = p
        records.reserveCapacity(expectedPackets)
    }

    deinit { free(base) }

    /// Frames start at multiples of this many bytes (a cache line).
    public static let frameAlignment = 64

    /// Where a frame goes that follows bytes up to `offset`: the next multiple of
    /// `frameAlignment`.
    @inlinable
    public static func frameStart(after offset: Int) -> Int {
        (offset + frameAlignment - 1) / frameAlignment * frameAlignment
    }

    /// Number of frames appended so far.
    public var count: Int { records.count }
    /// Frame bytes appended so far.
    public var totalBytes: Int { used }

    /// Copies one frame into the buffer.
    public func append(frame: UnsafeRawBufferPointer, wireLength: Int, timestampNanos: UInt64,
                       linkType: LinkType, interfaceID: UInt32 = 0) {
        precondition(base != nil, "TraceAssembler: append after finish")
        // Each frame starts on a cache line, so its headers (up to 64 bytes) never straddle two.
        let padding = TraceAssembler.frameStart(after: used) - used
        reserve(frame.count + padding)
        used += padding
        if let src = frame.baseAddress, frame.count > 0 {
            memcpy(base! + used, src, frame.count)
        }
        records.append(PacketRecord(
            offset: UInt64(used), timestampNanos: timestampNanos,
            capturedLength: UInt32(frame.count), wireLength: UInt32(clamping: wireLength),
            linkType: linkType, interfaceID: interfaceID))
        used += frame.count
    }

    /// Copies one frame given as bytes; the wire length defaults to the frame's length.
    public func append(frame: [UInt8], wireLength: Int? = nil, timestampNanos: UInt64,
                       linkType: LinkType = .ethernet, interfaceID: UInt32 = 0) {
        frame.withUnsafeBytes {
            append(frame: $0, wireLength: wireLength ?? frame.count, timestampNanos: timestampNanos,
                   linkType: linkType, interfaceID: interfaceID)
        }
    }

    /// Hands the buffer over to a new `Trace`; the assembler is empty and unusable afterwards.
    public func finish(name: String) -> Trace {
        precondition(base != nil, "TraceAssembler: finish called twice")
        let storage: UnsafeMutableRawPointer
        if let copy = TraceAssembler.hugePageCopy(base!, count: used) {
            free(base)
            storage = copy
        } else {
            // Shrink to fit, keeping at least one byte so the pointer is never null.
            storage = realloc(base, max(used, 1)) ?? base!
        }
        base = nil
        let trace = Trace(adopting: storage, totalBytes: used, records: records, name: name)
        records = []
        used = 0
        return trace
    }

    /// A copy of a large trace in memory aligned to 2 MiB and marked for transparent huge pages
    /// (where the kernel allows them), so that replaying it does not miss the TLB every few
    /// packets. Returns nil for small traces, or when the allocation fails.
    private static func hugePageCopy(_ source: UnsafeMutableRawPointer, count: Int) -> UnsafeMutableRawPointer? {
        let hugePage = 2 << 20
        guard count >= hugePage else { return nil }
        var aligned: UnsafeMutableRawPointer?
        let size = (count + hugePage - 1) / hugePage * hugePage
        guard posix_memalign(&aligned, hugePage, size) == 0, let aligned else { return nil }
        _ = madvise(aligned, size, MADV_HUGEPAGE)  // advice only: fine if the kernel says no
        memcpy(aligned, source, count)
        return aligned
    }

    private func reserve(_ extra: Int) {
        guard used + extra > capacity else { return }
        var newCapacity = capacity
        while newCapacity < used + extra { newCapacity *= 2 }
        guard let p = realloc(base, newCapacity) else {
            fatalError("TraceAssembler: out of memory growing to \(newCapacity) bytes")
        }
        base = p
        capacity = newCapacity
    }
}
