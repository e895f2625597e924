import Glibc
import PacketParsing

/// A packet trace held in memory: every captured frame back to back in ONE contiguous buffer,
/// and a `PacketRecord` per frame saying where it is. Immutable once built.
///
/// `@unchecked Sendable` is sound because nothing is ever written through `base` after `init`
/// (the only mutable state is the memory, which is written once before the object is published),
/// every stored property is a `let`, and the buffer is freed only in `deinit`, when no thread
/// can hold a reference any more. Pointers handed out by `frame(_:)` and `buffer` are valid
/// while the `Trace` is alive: keep a reference (e.g. `withExtendedLifetime(trace)`) while using them.
public final class Trace: @unchecked Sendable {
    /// The file the trace was loaded from, or a descriptive name for traces built in memory.
    public let name: String
    /// One record per frame, in capture order.
    public let records: [PacketRecord]
    /// Size of the frame buffer: the captured bytes plus the padding that starts each frame on a
    /// cache line (`TraceAssembler.frameAlignment`).
    public let totalBytes: Int
    /// The single link type of all frames, or nil when the trace is empty or mixes link types.
    public let linkType: LinkType?

    @usableFromInline let base: UnsafeMutableRawPointer

    /// Takes ownership of a `malloc`ed buffer (freed in deinit). Used by `TraceAssembler`.
    init(adopting base: UnsafeMutableRawPointer, totalBytes: Int, records: [PacketRecord], name: String) {
        self.base = base
        self.totalBytes = totalBytes
        self.records = records
        self.name = name
        if let first = records.first?.linkType, records.allSatisfy({ $0.linkType == first }) {
            linkType = first
        } else {
            linkType = nil
        }
    }

    /// One trace holding the frames of `traces` in order, each record keeping its link type,
    /// timestamp and interface id. The name joins the parts' names with " + ".
    public convenience init(concatenating traces: [Trace]) {
        // Each part starts on a frame-alignment boundary so its frames stay aligned.
        let align = TraceAssembler.frameAlignment
        let total = traces.reduce(0) { ($0 + align - 1) / align * align + $1.totalBytes }
        let packets = traces.reduce(0) { $0 + $1.count }
        let storage = malloc(max(total, 1))!
        var records: [PacketRecord] = []
        records.reserveCapacity(packets)
        var offset = 0
        for trace in traces {
            offset = (offset + align - 1) / align * align
            if trace.totalBytes > 0 { memcpy(storage + offset, trace.base, trace.totalBytes) }
            for var r in trace.records {
                r.offset += UInt64(offset)
                records.append(r)
            }
            offset += trace.totalBytes
        }
        self.init(adopting: storage, totalBytes: total, records: records,
                  name: traces.map(\.name).joined(separator: " + "))
    }

    deinit { free(base) }

    /// Number of frames.
    @inlinable public var count: Int { records.count }

    /// The captured bytes of frame `index` (0-based). Valid while this `Trace` is alive.
    @inlinable
    public func frame(_ index: Int) -> UnsafeRawBufferPointer {
        records[index].frame(in: bufferStart)
    }

    /// The records and frames as a replay loop reads them: through a buffer, with no bounds
    /// check per access. Valid only inside `withUncheckedView`; indices must be below `count`
    /// (the loop's own bounds guarantee it).
    public struct UncheckedView {
        public let records: UnsafeBufferPointer<PacketRecord>
        /// The start of the frame buffer.
        public let frames: UnsafeRawPointer

        @inlinable
        init(records: UnsafeBufferPointer<PacketRecord>, frames: UnsafeRawPointer) {
            self.records = records
            self.frames = frames
        }

        /// The captured bytes of frame `index`.
        @inlinable @inline(__always)
        public func frame(_ index: Int) -> UnsafeRawBufferPointer { records[index].frame(in: frames) }
    }

    /// Runs `body` with the unchecked view of this trace.
    @inlinable
    public func withUncheckedView<R>(_ body: (UncheckedView) throws -> R) rethrows -> R {
        try records.withUnsafeBufferPointer { try body(UncheckedView(records: $0, frames: bufferStart)) }
    }

    /// The whole buffer: all frames back to back. Valid while this `Trace` is alive.
    public var buffer: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: totalBytes)
    }

    @inlinable
    var bufferStart: UnsafeRawPointer { UnsafeRawPointer(base) }
}
