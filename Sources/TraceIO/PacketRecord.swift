import PacketParsing

/// Where one captured frame lives in a `Trace`'s buffer, and its capture metadata.
/// A plain 32-byte value with no references.
public struct PacketRecord: Hashable, Sendable {
    /// Byte offset of the frame's first byte in the trace buffer.
    public var offset: UInt64
    /// Capture timestamp in nanoseconds since the Unix epoch.
    public var timestampNanos: UInt64
    /// Bytes captured (pcap `caplen`): the length of the frame in the buffer.
    public var capturedLength: UInt32
    /// Length of the frame on the wire (pcap `len`); larger than `capturedLength` when the
    /// capture was cut by the snapshot length.
    public var wireLength: UInt32
    /// Link-layer header type of the frame.
    public var linkType: LinkType
    /// pcapng interface id (0 for classic pcap). libpcap (1.10) does not report it: `TraceLoader`
    /// reads it from the file's blocks (`PcapngInterfaces`).
    public var interfaceID: UInt32

    @inlinable
    public init(offset: UInt64, timestampNanos: UInt64, capturedLength: UInt32, wireLength: UInt32,
                linkType: LinkType, interfaceID: UInt32 = 0) {
        self.offset = offset
        self.timestampNanos = timestampNanos
        self.capturedLength = capturedLength
        self.wireLength = wireLength
        self.linkType = linkType
        self.interfaceID = interfaceID
    }

    /// The captured bytes of this frame in a trace buffer that starts at `buffer`.
    @inlinable @inline(__always)
    public func frame(in buffer: UnsafeRawPointer) -> UnsafeRawBufferPointer {
        // An offset into the buffer (below its size, so below Int.max): converted unchecked.
        UnsafeRawBufferPointer(start: buffer + Int(truncatingIfNeeded: offset), count: Int(capturedLength))
    }
}
