import Foundation
import Testing
import TestSupport

/// The shared captures folder (../shared/traces next to the package root; see TestSupport).
func sharedTracesDirectory() throws -> URL { try TestPaths.sharedTraces() }

/// A fresh temporary directory, removed by the caller with `cleanup`.
func makeTempDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("traceio-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func cleanup(_ url: URL) { try? FileManager.default.removeItem(at: url) }

/// Little-endian byte writer for hand-made capture files.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u16(_ v: UInt16) { bytes += [UInt8(v & 0xff), UInt8(v >> 8)] }
    mutating func u32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((v >> UInt32(s)) & 0xff)) } }
    mutating func u64(_ v: UInt64) { for s in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8((v >> UInt64(s)) & 0xff)) } }
    mutating func raw(_ b: [UInt8]) { bytes += b }
}

/// One record of a classic pcap file, read independently of libpcap.
struct RawRecord {
    var headerOffset: Int
    var seconds: UInt32
    var fraction: UInt32
    var caplen: Int
    var len: Int
    var data: [UInt8]
}

/// Walks a classic pcap file's records (either byte order) without libpcap.
func rawRecords(of file: [UInt8]) -> (nanosecond: Bool, records: [RawRecord]) {
    func read32(_ at: Int, _ big: Bool) -> UInt32 {
        let b = file[at..<at + 4].map(UInt32.init)
        return big ? (b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]) : (b[3] << 24 | b[2] << 16 | b[1] << 8 | b[0])
    }
    let magicLE = read32(0, false)
    let big = !(magicLE == 0xa1b2c3d4 || magicLE == 0xa1b23c4d)
    let magic = read32(0, big)
    var records: [RawRecord] = []
    var at = 24
    while at + 16 <= file.count {
        let caplen = Int(read32(at + 8, big))
        guard at + 16 + caplen <= file.count else { break }
        records.append(RawRecord(headerOffset: at, seconds: read32(at, big), fraction: read32(at + 4, big),
                                 caplen: caplen, len: Int(read32(at + 12, big)),
                                 data: Array(file[at + 16..<at + 16 + caplen])))
        at += 16 + caplen
    }
    return (magic == 0xa1b23c4d, records)
}
