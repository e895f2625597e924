import PacketParsing
import TraceIO

/// Where built frames go, in order: a `TraceBuilder`, a `PcapFileSink`, or a plain `[[UInt8]]`.
/// Timestamps are the sink's business.
public protocol FrameSink {
    mutating func append(_ frame: [UInt8])
    /// Leaves a gap before the next frame (sinks without a clock ignore it).
    mutating func advanceClock(byNanos nanos: UInt64)
}

extension FrameSink {
    public mutating func advanceClock(byNanos nanos: UInt64) {}
}

/// A plain array of frames is a sink (Array's own `append` fulfils the requirement).
extension Array: FrameSink where Element == [UInt8] {}

/// Monotonic timestamps: `start`, then `step` apart, plus any gaps asked for.
public struct FrameClock: Sendable, Hashable {
    /// 2023-11-14 22:13:20 UTC: a fixed start keeps generated files byte-identical.
    public static let defaultStartNanos: UInt64 = 1_700_000_000 * 1_000_000_000
    public var nextNanos: UInt64
    public var stepNanos: UInt64

    public init(startNanos: UInt64 = FrameClock.defaultStartNanos, stepNanos: UInt64 = 1_000) {
        nextNanos = startNanos
        self.stepNanos = stepNanos
    }

    /// The timestamp for the next frame; moves the clock on by one step.
    public mutating func tick() -> UInt64 {
        defer { nextNanos &+= stepNanos }
        return nextNanos
    }
}

/// An ordered list of Ethernet frames with timestamps, held in one byte array: the in-memory
/// synthetic trace. Write it with `write(to:)` or turn it into a `Trace` with `makeTrace`.
public struct TraceBuilder: FrameSink, Sendable {
    /// Where one frame is in `bytes`, and when it was "captured".
    public struct Entry: Hashable, Sendable {
        public var offset: Int
        public var length: Int
        public var timestampNanos: UInt64
    }

    public private(set) var bytes: [UInt8] = []
    public private(set) var entries: [Entry] = []
    public var clock: FrameClock

    public init(clock: FrameClock = FrameClock()) { self.clock = clock }

    public var count: Int { entries.count }
    public var totalBytes: Int { bytes.count }

    public mutating func append(_ frame: [UInt8]) {
        entries.append(Entry(offset: bytes.count, length: frame.count, timestampNanos: clock.tick()))
        bytes += frame
    }

    /// Appends a frame after a gap of `gapNanos` (on top of the usual step).
    public mutating func append(_ frame: [UInt8], gapNanos: UInt64) {
        advanceClock(byNanos: gapNanos)
        append(frame)
    }

    public mutating func advanceClock(byNanos nanos: UInt64) { clock.nextNanos &+= nanos }

    /// The bytes of frame `index`.
    public func frame(_ index: Int) -> ArraySlice<UInt8> {
        let e = entries[index]
        return bytes[e.offset..<e.offset + e.length]
    }

    /// All frames, each as its own array.
    public var frames: [[UInt8]] { entries.indices.map { Array(frame($0)) } }

    /// Writes a classic pcap file (microsecond timestamps unless `nanosecond`).
    public func write(to path: String, linkType: LinkType = .ethernet, snapLength: Int = 262_144,
                      nanosecond: Bool = false) throws(TraceError) {
        let writer = try PcapWriter(path: path, linkType: linkType, snapLength: snapLength, nanosecond: nanosecond)
        bytes.withUnsafeBytes { raw in
            for e in entries {
                writer.write(frame: UnsafeRawBufferPointer(rebasing: raw[e.offset..<e.offset + e.length]),
                             timestampNanos: e.timestampNanos)
            }
        }
        try writer.close()
    }

    /// An in-memory `Trace` with the same frames and timestamps (Ethernet link type).
    public func makeTrace(name: String = "synthetic") -> Trace {
        let assembler = TraceAssembler(capacity: max(bytes.count, 64), expectedPackets: entries.count)
        bytes.withUnsafeBytes { raw in
            for e in entries {
                assembler.append(frame: UnsafeRawBufferPointer(rebasing: raw[e.offset..<e.offset + e.length]),
                                 wireLength: e.length, timestampNanos: e.timestampNanos, linkType: .ethernet)
            }
        }
        return assembler.finish(name: name)
    }
}

/// Streams frames straight into a pcap file, for traces too big to hold twice in memory.
public struct PcapFileSink: FrameSink {
    public let writer: PcapWriter
    public var clock: FrameClock
    public private(set) var packets = 0
    public private(set) var bytes = 0

    public init(path: String, clock: FrameClock = FrameClock(), nanosecond: Bool = false) throws(TraceError) {
        writer = try PcapWriter(path: path, linkType: .ethernet, snapLength: 262_144, nanosecond: nanosecond)
        self.clock = clock
    }

    public mutating func append(_ frame: [UInt8]) {
        writer.write(frame: frame, timestampNanos: clock.tick())
        packets += 1
        bytes += frame.count
    }

    public mutating func advanceClock(byNanos nanos: UInt64) { clock.nextNanos &+= nanos }

    /// Flushes and closes the file.
    public func close() throws(TraceError) { try writer.close() }
}
