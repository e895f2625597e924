import Foundation
import PacketParsing
import Testing
import TraceIO

@Suite struct WriterRoundTripTests {
    func frames() -> [[UInt8]] {
        (0..<20).map { i in (0..<(14 + i * 37)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) } }
    }

    @Test(arguments: [true, false])
    func writerThenLoader(nanosecond: Bool) throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let path = dir.appendingPathComponent("rt.pcap").path
        let frames = frames()
        let stamps: [UInt64] = (0..<frames.count).map { 1_700_000_000_123_456_789 + UInt64($0) * 1_234_567 }
        let writer = try PcapWriter(path: path, linkType: .ethernet, snapLength: 65535, nanosecond: nanosecond)
        for (i, f) in frames.enumerated() {
            writer.write(frame: f, wireLength: i == 3 ? f.count + 100 : nil, timestampNanos: stamps[i])
        }
        try writer.close()
        #expect(writer.packetsWritten == frames.count)

        let trace = try TraceLoader.loadComplete(path: path)
        #expect(trace.count == frames.count)
        #expect(trace.name == path)
        #expect(trace.linkType == .ethernet)
        for (i, f) in frames.enumerated() {
            #expect(Array(trace.frame(i)) == f)
            #expect(Int(trace.records[i].wireLength) == (i == 3 ? f.count + 100 : f.count))
            let expected = nanosecond ? stamps[i] : stamps[i] / 1_000 * 1_000
            #expect(trace.records[i].timestampNanos == expected)
        }
        // The file's magic says which precision it holds.
        let head = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)).prefix(4))
        #expect(head == (nanosecond ? [0x4d, 0x3c, 0xb2, 0xa1] : [0xd4, 0xc3, 0xb2, 0xa1]))
    }

    @Test func writerCutsFramesToSnapLength() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let path = dir.appendingPathComponent("snap.pcap").path
        let writer = try PcapWriter(path: path, linkType: .raw, snapLength: 40)
        writer.write(frame: [UInt8](repeating: 7, count: 100), timestampNanos: 1_000)
        try writer.close()
        let trace = try TraceLoader.loadComplete(path: path)
        #expect(trace.records[0].capturedLength == 40)
        #expect(trace.records[0].wireLength == 100)
        #expect(trace.linkType == .raw)
    }

    @Test func writerToMissingDirectoryThrows() {
        #expect(throws: TraceError.self) {
            _ = try PcapWriter(path: "/nonexistent-dir-ctbench/x.pcap")
        }
    }
}

@Suite struct DamagedFileTests {
    static let source = "suricata-verify/ftp__ftp-download-active.pcap"

    /// Cuts a shared capture inside record `cutRecord` (1-based), `intoHeader` or into its data.
    func checkTruncation(cutRecord: Int, intoHeader: Bool) throws {
        let original = try [UInt8](Data(contentsOf: try sharedTracesDirectory().appendingPathComponent(Self.source)))
        let raw = rawRecords(of: original).records
        try #require(raw.count > cutRecord)
        let r = raw[cutRecord - 1]
        let cut = intoHeader ? r.headerOffset + 7 : r.headerOffset + 16 + r.caplen / 2
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let path = dir.appendingPathComponent("cut.pcap").path
        try Data(original[..<cut]).write(to: URL(fileURLWithPath: path))

        let loaded = try TraceLoader.load(path: path)
        let error = try #require(loaded.error)
        guard case .truncated(let p, let n, let reason) = error else {
            Issue.record("expected .truncated, got \(error)")
            return
        }
        #expect(p == path)
        #expect(n == cutRecord)
        #expect(!reason.isEmpty)
        #expect(error.description.contains(path))
        #expect(error.description.contains("packet \(cutRecord)"))
        #expect(loaded.trace.count == cutRecord - 1)
        for i in 0..<(cutRecord - 1) {
            #expect(Array(loaded.trace.frame(i)) == raw[i].data)
            #expect(Int(loaded.trace.records[i].wireLength) == raw[i].len)
        }
        #expect(throws: TraceError.self) { _ = try TraceLoader.loadComplete(path: path) }
    }

    @Test func truncatedInsideRecordData() throws { try checkTruncation(cutRecord: 10, intoHeader: false) }
    @Test func truncatedInsideRecordHeader() throws { try checkTruncation(cutRecord: 25, intoHeader: true) }

    @Test func missingFile() {
        let path = "/nonexistent-ctbench/none.pcap"
        do {
            _ = try TraceLoader.load(path: path)
            Issue.record("loading a missing file succeeded")
        } catch {
            guard case .cannotOpen(let p, _) = error else { Issue.record("got \(error)"); return }
            #expect(p == path)
            #expect(error.description.contains(path))
        }
    }

    @Test func emptyFile() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let path = dir.appendingPathComponent("empty.pcap").path
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        #expect(throws: TraceError.emptyFile(path: path)) { _ = try TraceLoader.load(path: path) }
    }

    @Test func bogusMagic() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let path = dir.appendingPathComponent("bogus.pcap").path
        try Data("this is a text file, not a packet capture at all\n".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try TraceLoader.load(path: path)
            Issue.record("loading a text file succeeded")
        } catch {
            guard case .notACapture(let p, let reason) = error else { Issue.record("got \(error)"); return }
            #expect(p == path)
            #expect(!reason.isEmpty)
            #expect(error.description.contains(path))
        }
    }

    @Test func directoryIsNotACapture() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        #expect(throws: TraceError.cannotOpen(path: dir.path, reason: "is a directory")) {
            _ = try TraceLoader.load(path: dir.path)
        }
    }

    /// A classic little-endian pcap file header.
    func pcapHeader(snapLength: UInt32, linkType: UInt32 = 1) -> ByteWriter {
        var w = ByteWriter()
        w.u32(0xa1b2c3d4); w.u16(2); w.u16(4); w.u32(0); w.u32(0); w.u32(snapLength); w.u32(linkType)
        return w
    }

    @Test func hugeCaptureLengthIsACorruptRecordWithPacketNumber() throws {
        var w = pcapHeader(snapLength: 65535)
        for i in 0..<2 {
            w.u32(100 + UInt32(i)); w.u32(0); w.u32(60); w.u32(60); w.raw([UInt8](repeating: UInt8(i), count: 60))
        }
        // Third record claims 1 MB captured: more than any link type allows.
        w.u32(200); w.u32(0); w.u32(1_000_000); w.u32(1_000_000); w.raw([UInt8](repeating: 9, count: 200))
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let path = dir.appendingPathComponent("huge.pcap").path
        try Data(w.bytes).write(to: URL(fileURLWithPath: path))
        let loaded = try TraceLoader.load(path: path)
        let error = try #require(loaded.error)
        #expect(error.packetNumber == 3)
        #expect(error.path == path)
        #expect(error.description.contains("packet 3"))
        #expect(loaded.trace.count == 2)
        #expect(Array(loaded.trace.frame(1)) == [UInt8](repeating: 1, count: 60))
    }

    /// libpcap 1.10 accepts a record larger than the file's snap length but below the link type's
    /// maximum: it keeps the first snap-length bytes and skips the rest. The loader keeps going.
    @Test func captureLengthAboveSnapLengthIsCutByLibpcap() throws {
        var w = pcapHeader(snapLength: 64)
        w.u32(1); w.u32(0); w.u32(100); w.u32(100); w.raw((0..<100).map { UInt8($0) })
        w.u32(2); w.u32(0); w.u32(10); w.u32(10); w.raw([UInt8](repeating: 5, count: 10))
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let path = dir.appendingPathComponent("oversnap.pcap").path
        try Data(w.bytes).write(to: URL(fileURLWithPath: path))
        let loaded = try TraceLoader.load(path: path)
        if let error = loaded.error {
            // A libpcap that rejects it must name packet 1.
            #expect(error.packetNumber == 1)
        } else {
            #expect(loaded.trace.count == 2)
            #expect(Array(loaded.trace.frame(0)) == (0..<64).map { UInt8($0) })
            #expect(loaded.trace.records[0].wireLength == 100)
            #expect(Array(loaded.trace.frame(1)) == [UInt8](repeating: 5, count: 10))
        }
    }
}

@Suite struct PcapngTests {
    static func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
        var padded = body
        while padded.count % 4 != 0 { padded.append(0) }
        var w = ByteWriter()
        let total = UInt32(12 + padded.count)
        w.u32(type); w.u32(total); w.raw(padded); w.u32(total)
        return w.bytes
    }

    static func shb() -> [UInt8] {
        var b = ByteWriter()
        b.u32(0x1A2B_3C4D); b.u16(1); b.u16(0); b.u64(UInt64.max)
        return block(0x0A0D_0D0A, b.bytes)
    }

    static func idb(linkType: UInt16, snapLength: UInt32 = 65535) -> [UInt8] {
        var b = ByteWriter()
        b.u16(linkType); b.u16(0); b.u32(snapLength)
        return block(1, b.bytes)
    }

    /// Enhanced packet block; timestamps in the default resolution (microseconds).
    static func epb(interface: UInt32, micros: UInt64, data: [UInt8], wireLength: UInt32? = nil) -> [UInt8] {
        var b = ByteWriter()
        b.u32(interface); b.u32(UInt32(micros >> 32)); b.u32(UInt32(micros & 0xffff_ffff))
        b.u32(UInt32(data.count)); b.u32(wireLength ?? UInt32(data.count)); b.raw(data)
        return block(6, b.bytes)
    }

    func write(_ bytes: [UInt8], name: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func oneInterfaceTwoPackets() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let a: [UInt8] = Array(0..<61), b: [UInt8] = Array(repeating: 0xee, count: 42)
        let file = Self.shb() + Self.idb(linkType: 1)
            + Self.epb(interface: 0, micros: 1_700_000_000_000_001, data: a)
            + Self.epb(interface: 0, micros: 1_700_000_000_500_000, data: b, wireLength: 1500)
        let path = try write(file, name: "one.pcapng", in: dir)
        let trace = try TraceLoader.loadComplete(path: path)
        #expect(trace.count == 2)
        #expect(trace.linkType == .ethernet)
        #expect(Array(trace.frame(0)) == a)
        #expect(Array(trace.frame(1)) == b)
        #expect(trace.records[0].timestampNanos == 1_700_000_000_000_001_000)
        #expect(trace.records[1].timestampNanos == 1_700_000_000_500_000_000)
        #expect(trace.records[1].wireLength == 1500)
    }

    @Test func twoInterfacesOfTheSameLinkType() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let file = Self.shb() + Self.idb(linkType: 1) + Self.idb(linkType: 1)
            + Self.epb(interface: 0, micros: 10, data: [1, 2, 3])
            + Self.epb(interface: 1, micros: 20, data: [4, 5, 6, 7])
            + Self.epb(interface: 0, micros: 30, data: [8])
        let path = try write(file, name: "two.pcapng", in: dir)
        let trace = try TraceLoader.loadComplete(path: path)
        #expect(trace.count == 3)
        #expect(Array(trace.frame(1)) == [4, 5, 6, 7])
        #expect(trace.records.map(\.timestampNanos) == [10_000, 20_000, 30_000])
    }

    @Test func truncatedPcapngNamesThePacket() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let full = Self.shb() + Self.idb(linkType: 1)
            + Self.epb(interface: 0, micros: 10, data: Array(repeating: 1, count: 40))
            + Self.epb(interface: 0, micros: 20, data: Array(repeating: 2, count: 40))
        let path = try write(Array(full.dropLast(20)), name: "cut.pcapng", in: dir)
        let loaded = try TraceLoader.load(path: path)
        #expect(loaded.trace.count == 1)
        #expect(loaded.error?.packetNumber == 2)
        #expect(loaded.error?.path == path)
    }
}
