/// Why a capture could not be read or written. Every case names the file; the read errors that
/// happen part-way through a capture also name the 1-based number of the packet that failed.
public enum TraceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not exist, is not readable, or is a directory.
    case cannotOpen(path: String, reason: String)
    /// The file exists but holds zero bytes.
    case emptyFile(path: String)
    /// libpcap does not recognise the file as a pcap or pcapng capture (bad magic number,
    /// a file header cut short, an unsupported version).
    case notACapture(path: String, reason: String)
    /// The file ends in the middle of a packet record; `packetNumber` is the 1-based number of
    /// the record that is incomplete. All earlier packets were read.
    case truncated(path: String, packetNumber: Int, reason: String)
    /// A record is malformed (for example a captured length larger than any valid snapshot
    /// length); `packetNumber` is 1-based. All earlier packets were read.
    case corruptRecord(path: String, packetNumber: Int, reason: String)
    /// A capture file could not be created for writing.
    case cannotCreate(path: String, reason: String)
    /// Writing or flushing a capture file failed.
    case writeFailed(path: String, reason: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .cannotOpen(let p, _), .emptyFile(let p), .notACapture(let p, _),
             .truncated(let p, _, _), .corruptRecord(let p, _, _),
             .cannotCreate(let p, _), .writeFailed(let p, _):
            p
        }
    }

    /// The 1-based number of the packet at which reading stopped, for errors part-way through.
    public var packetNumber: Int? {
        switch self {
        case .truncated(_, let n, _), .corruptRecord(_, let n, _): n
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open capture '\(path)': \(reason)"
        case .emptyFile(let path):
            "capture '\(path)' is empty (0 bytes): not a pcap or pcapng file"
        case .notACapture(let path, let reason):
            "'\(path)' is not a pcap or pcapng capture libpcap can read: \(reason)"
        case .truncated(let path, let n, let reason):
            "capture '\(path)' is truncated at packet \(n) (the \(n - 1) packets before it were read): \(reason)"
        case .corruptRecord(let path, let n, let reason):
            "capture '\(path)' has a corrupt record at packet \(n) (the \(n - 1) packets before it were read): \(reason)"
        case .cannotCreate(let path, let reason):
            "cannot create capture file '\(path)': \(reason)"
        case .writeFailed(let path, let reason):
            "writing capture file '\(path)' failed: \(reason)"
        }
    }
}
