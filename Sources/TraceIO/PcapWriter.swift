import CPcap
import Glibc
import PacketParsing

/// Writes frames to a classic pcap file through libpcap (`pcap_dump`).
///
/// The file is closed by `close()` (which reports flush errors) or, failing that, in `deinit`.
public final class PcapWriter {
    public let path: String
    public let linkType: LinkType
    /// Frames longer than this are cut to it (the wire length is kept).
    public let snapLength: Int
    /// Whether the file stores nanosecond timestamps (magic a1b23c4d) or microseconds (a1b2c3d4).
    public let nanosecond: Bool
    /// Frames written so far.
    public private(set) var packetsWritten = 0

    private var pcap: OpaquePointer?
    private var dumper: OpaquePointer?

    public init(path: String, linkType: LinkType = .ethernet, snapLength: Int = 262_144,
                nanosecond: Bool = false) throws(TraceError) {
        self.path = path
        self.linkType = linkType
        self.snapLength = snapLength
        self.nanosecond = nanosecond
        let precision = nanosecond ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO
        guard let p = pcap_open_dead_with_tstamp_precision(linkType.rawValue, Int32(snapLength), UInt32(precision)) else {
            throw .cannotCreate(path: path, reason: "pcap_open_dead failed for link type \(linkType) snap length \(snapLength)")
        }
        guard let d = pcap_dump_open(p, path) else {
            let reason = String(cString: pcap_geterr(p))
            pcap_close(p)
            throw .cannotCreate(path: path, reason: reason)
        }
        pcap = p
        dumper = d
    }

    deinit {
        if let dumper { pcap_dump_close(dumper) }
        if let pcap { pcap_close(pcap) }
    }

    /// Appends one frame. `wireLength` defaults to the frame's length.
    public func write(frame: UnsafeRawBufferPointer, wireLength: Int? = nil, timestampNanos: UInt64) {
        guard let dumper else { preconditionFailure("PcapWriter.write after close (\(path))") }
        let captured = min(frame.count, snapLength)
        let seconds = timestampNanos / 1_000_000_000
        let fraction = timestampNanos % 1_000_000_000
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(seconds)
        header.ts.tv_usec = Int(nanosecond ? fraction : fraction / 1_000)
        header.caplen = UInt32(captured)
        header.len = UInt32(clamping: max(wireLength ?? frame.count, captured))
        let user = UnsafeMutablePointer<UInt8>(dumper)
        if let bytes = frame.baseAddress?.assumingMemoryBound(to: UInt8.self) {
            pcap_dump(user, &header, bytes)
        } else {
            var empty: UInt8 = 0
            pcap_dump(user, &header, &empty)
        }
        packetsWritten += 1
    }

    /// Appends one frame given as bytes.
    public func write(frame: [UInt8], wireLength: Int? = nil, timestampNanos: UInt64) {
        frame.withUnsafeBytes { write(frame: $0, wireLength: wireLength, timestampNanos: timestampNanos) }
    }

    /// Flushes and closes the file. Further writes are a programming error.
    public func close() throws(TraceError) {
        guard let d = dumper else { return }
        let flushFailed = pcap_dump_flush(d) != 0 || ferror(pcap_dump_file(d)) != 0
        pcap_dump_close(d)
        dumper = nil
        if let p = pcap { pcap_close(p) }
        pcap = nil
        if flushFailed {
            throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
