import CPcap
import Glibc
import PacketParsing

/// A loaded trace, and why loading stopped early if it did (a truncated or corrupt record).
/// When `error` is set, `trace` holds every packet before the one that failed.
public struct LoadedTrace: Sendable {
    public let trace: Trace
    /// Why reading stopped before the end of the file; nil when the whole file was read.
    public let error: TraceError?

    public init(trace: Trace, error: TraceError?) {
        self.trace = trace
        self.error = error
    }

    /// True when the whole file was read.
    public var isComplete: Bool { error == nil }
}

/// Reads pcap and pcapng files through libpcap into a contiguous in-memory `Trace`.
public enum TraceLoader {
    /// Loads a capture with nanosecond timestamps.
    ///
    /// Throws for files that cannot be read at all (missing, empty, not a capture). A record that
    /// is truncated or corrupt part-way through does not throw: the packets before it are kept and
    /// `LoadedTrace.error` says which packet (1-based) failed and why.
    public static func load(path: String) throws(TraceError) -> LoadedTrace {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw .cannotOpen(path: path, reason: "is a directory")
        }
        if info.st_size == 0 { throw .emptyFile(path: path) }

        var errbuf = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE) + 1)
        guard let handle = pcap_open_offline_with_tstamp_precision(
            path, UInt32(PCAP_TSTAMP_PRECISION_NANO), &errbuf)
        else {
            let reason = errbuf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if access(path, R_OK) != 0 {
                throw .cannotOpen(path: path, reason: reason)
            }
            throw .notACapture(path: path, reason: reason)
        }
        defer { pcap_close(handle) }

        let linkType = LinkType(rawValue: pcap_datalink(handle))
        // libpcap does not report pcapng interface ids: read them from the block headers.
        let interfaces = PcapngInterfaces.ids(path: path) ?? []
        // Frame bytes never exceed the file size: one allocation is enough for any pcap file.
        let assembler = TraceAssembler(capacity: Int(info.st_size), expectedPackets: Int(info.st_size) / 128)
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        var stoppedBy: TraceError?

        reading: while true {
            let rc = pcap_next_ex(handle, &header, &data)
            switch rc {
            case 1:
                let h = header!.pointee
                let nanos = TraceLoader.nanoseconds(seconds: h.ts.tv_sec, fraction: h.ts.tv_usec)
                // The pointer libpcap hands out dies at the next call: copy now.
                let number = assembler.count
                assembler.append(
                    frame: UnsafeRawBufferPointer(start: data, count: Int(h.caplen)),
                    wireLength: Int(h.len), timestampNanos: nanos, linkType: linkType,
                    interfaceID: number < interfaces.count ? interfaces[number] : 0)
            case PCAP_ERROR_BREAK:
                break reading  // end of file
            default:
                let reason = String(cString: pcap_geterr(handle))
                let number = assembler.count + 1
                stoppedBy = reason.contains("truncated")
                    ? .truncated(path: path, packetNumber: number, reason: reason)
                    : .corruptRecord(path: path, packetNumber: number, reason: reason)
                break reading
            }
        }
        return LoadedTrace(trace: assembler.finish(name: path), error: stoppedBy)
    }

    /// A record's capture time in ns from libpcap's `timeval` (nanosecond precision). Classic
    /// pcap stores unsigned 32-bit seconds and fraction, which libpcap reads into signed fields:
    /// a value of 2^31 or more (seconds after January 2038) arrives negative and is taken back
    /// as the unsigned value it was in the file. A time beyond the range of `UInt64` ns (after
    /// the year 2554, only in a damaged pcapng file) saturates. Found by the `pcap` fuzz target.
    static func nanoseconds(seconds: Int, fraction: Int) -> UInt64 {
        func unsigned(_ value: Int) -> UInt64 {
            if value >= 0 { return UInt64(value) }
            return value >= Int(Int32.min) ? UInt64(UInt32(truncatingIfNeeded: value)) : 0
        }
        let (whole, overflow) = unsigned(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, carry) = whole.addingReportingOverflow(unsigned(fraction))
        return overflow || carry ? .max : total
    }

    /// Loads a capture and throws if any part of it could not be read.
    public static func loadComplete(path: String) throws(TraceError) -> Trace {
        let loaded = try load(path: path)
        if let error = loaded.error { throw error }
        return loaded.trace
    }
}
