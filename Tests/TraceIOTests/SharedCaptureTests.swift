import Foundation
import PacketParsing
import Testing
import TraceIO

/// One row of ../shared/traces/MANIFEST.tsv.
struct ManifestRow: CustomStringConvertible, Sendable {
    var file: String
    var packets: Int
    var linkType: String
    var description: String { file }
}

func manifestRows() throws -> [ManifestRow] {
    let dir = try sharedTracesDirectory()
    let text = try String(contentsOf: dir.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    let header = lines.removeFirst()
    guard let fileCol = header.firstIndex(of: "file"), let packetsCol = header.firstIndex(of: "packets"),
          let linkCol = header.firstIndex(of: "link_type") else {
        Issue.record("MANIFEST.tsv header lacks file/packets/link_type columns: \(header)")
        return []
    }
    return lines.map { ManifestRow(file: $0[fileCol], packets: Int($0[packetsCol]) ?? -1, linkType: $0[linkCol]) }
}

/// Manifest link-type names to libpcap DLT values.
func dlt(forManifestName name: String) -> LinkType? {
    switch name {
    case "ether": .ethernet
    case "linux-sll": .linuxSLL
    case "linux-sll2": .linuxSLL2
    case "raw": .raw
    case "null": .null
    default: nil
    }
}

@Suite struct SharedCaptureTests {
    @Test func manifestIsNotEmpty() throws {
        #expect(try manifestRows().count > 10)
    }

    @Test(arguments: try manifestRows())
    func loadsWithManifestCountAndLinkType(row: ManifestRow) throws {
        let path = try sharedTracesDirectory().appendingPathComponent(row.file).path
        let loaded = try TraceLoader.load(path: path)
        #expect(loaded.error == nil, "\(row.file): \(String(describing: loaded.error))")
        #expect(loaded.trace.count == row.packets, "\(row.file)")
        let expected = try #require(dlt(forManifestName: row.linkType), "unknown manifest link type \(row.linkType)")
        #expect(loaded.trace.linkType == expected, "\(row.file)")
        #expect(loaded.trace.records.allSatisfy { $0.linkType == expected })
        // Frames follow each other in the buffer, each starting on a cache line.
        var end: UInt64 = 0
        for r in loaded.trace.records {
            #expect(r.offset % UInt64(TraceAssembler.frameAlignment) == 0)
            #expect(r.offset >= end && r.offset < end + UInt64(TraceAssembler.frameAlignment))
            end = r.offset + UInt64(r.capturedLength)
        }
        #expect(Int(end) == loaded.trace.totalBytes)
    }

    @Test func bytesAndTimestampsMatchAnIndependentReader() throws {
        let path = try sharedTracesDirectory().appendingPathComponent("tcpdump/tftp-heapoverflow.pcap").path
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let (nano, raw) = rawRecords(of: file)
        let trace = try TraceLoader.loadComplete(path: path)
        #expect(trace.count == raw.count)
        for (i, r) in raw.enumerated() {
            #expect(Array(trace.frame(i)) == r.data)
            #expect(Int(trace.records[i].wireLength) == r.len)
            let ns = UInt64(r.seconds) * 1_000_000_000 + UInt64(r.fraction) * (nano ? 1 : 1_000)
            #expect(trace.records[i].timestampNanos == ns)
        }
        // The manifest says this one packet was cut by the snap length.
        #expect(trace.records[0].wireLength > trace.records[0].capturedLength)
    }

    @Test func concatenationKeepsLinkTypesAndFrames() throws {
        let dir = try sharedTracesDirectory()
        let a = try TraceLoader.loadComplete(path: dir.appendingPathComponent("tcpdump/tftp.pcap").path)
        let b = try TraceLoader.loadComplete(path: dir.appendingPathComponent("tcpdump/tftp-heapoverflow.pcap").path)
        let c = try TraceLoader.loadComplete(path: dir.appendingPathComponent("suricata-verify/decode-sll2-02.pcap").path)
        let all = Trace(concatenating: [a, b, c])
        #expect(all.count == a.count + b.count + c.count)
        let capturedBytes = { (t: Trace) -> Int in t.records.reduce(0) { $0 + Int($1.capturedLength) } }
        let partsBytes = capturedBytes(a) + capturedBytes(b) + capturedBytes(c)
        #expect(capturedBytes(all) == partsBytes)
        #expect(all.records.allSatisfy { $0.offset % UInt64(TraceAssembler.frameAlignment) == 0 })
        #expect(all.linkType == nil)
        var i = 0
        for part in [a, b, c] {
            for j in 0..<part.count {
                #expect(all.records[i].linkType == part.records[j].linkType)
                #expect(all.records[i].timestampNanos == part.records[j].timestampNanos)
                #expect(Array(all.frame(i)) == Array(part.frame(j)))
                i += 1
            }
        }
        #expect(all.records[a.count].linkType == .linuxSLL)
        #expect(all.records[a.count + b.count].linkType == .linuxSLL2)
    }
}
