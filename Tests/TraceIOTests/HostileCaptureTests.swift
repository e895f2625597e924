import Foundation
import PacketParsing
import Testing
import TestSupport
import TraceIO

/// Writes `bytes` as `dir/name`; returns the path.
func writeCapture(_ bytes: [UInt8], _ name: String, in dir: URL) throws -> String {
    let path = dir.appendingPathComponent(name).path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// Odd and damaged captures beyond the cases of FileHandlingTests: each gives the packets that
/// are valid and a message naming the file and packet for the rest (issue 8, item 4).
@Suite struct HostileCaptureTests {
    /// A classic little-endian pcap header (`nanosecond`: magic a1b23c4d).
    func header(snapLength: UInt32 = 65535, linkType: UInt32 = 1, nanosecond: Bool = false) -> ByteWriter {
        var w = ByteWriter()
        w.u32(nanosecond ? 0xa1b2_3c4d : 0xa1b2_c3d4); w.u16(2); w.u16(4); w.u32(0); w.u32(0)
        w.u32(snapLength); w.u32(linkType)
        return w
    }

    func record(_ w: inout ByteWriter, seconds: UInt32, fraction: UInt32, data: [UInt8], wireLength: UInt32? = nil) {
        w.u32(seconds); w.u32(fraction); w.u32(UInt32(data.count)); w.u32(wireLength ?? UInt32(data.count)); w.raw(data)
    }

    /// Found by the `pcap` fuzz target: libpcap hands a record's unsigned 32-bit seconds to us
    /// signed, so a time after January 2038 arrived negative and trapped the conversion to ns.
    @Test func secondsAfter2038AreReadAsUnsigned() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        var w = header()
        record(&w, seconds: 1_700_000_000, fraction: 5, data: [1, 2, 3])
        record(&w, seconds: 0x8000_0001, fraction: 7, data: [4, 5, 6])
        record(&w, seconds: 0xFFFF_FFFF, fraction: 0xFFFF_FFFF, data: [7])
        let path = try writeCapture(w.bytes, "2038.pcap", in: dir)
        let trace = try TraceLoader.loadComplete(path: path)
        #expect(trace.count == 3)
        #expect(trace.records[0].timestampNanos == 1_700_000_000_000_005_000)
        #expect(trace.records[1].timestampNanos == 0x8000_0001 * 1_000_000_000 + 7_000)
        #expect(trace.records[2].timestampNanos >= 0xFFFF_FFFF * 1_000_000_000)
        // The committed fuzz finding loads too (the first five packets are good).
        let finding = TestPaths.packageRoot.appendingPathComponent("Fuzz/Corpus/pcap/regression-seconds-after-2038.pcap").path
        #expect(try TraceLoader.load(path: finding).trace.count >= 6)
    }
}

/// Damage at the end, a bad magic number, and pcapng files with several interfaces, link types
/// and timestamp resolutions.
@Suite struct OddCaptureTests {
    func frames(_ count: Int) -> [[UInt8]] {
        (0..<count).map { i in [UInt8](repeating: UInt8(i + 1), count: 60 + i) }
    }

    func classic(_ frames: [[UInt8]]) -> [UInt8] {
        var w = ByteWriter()
        w.u32(0xa1b2_c3d4); w.u16(2); w.u16(4); w.u32(0); w.u32(0); w.u32(65535); w.u32(1)
        for (i, f) in frames.enumerated() {
            w.u32(100); w.u32(UInt32(i)); w.u32(UInt32(f.count)); w.u32(UInt32(f.count)); w.raw(f)
        }
        return w.bytes
    }

    @Test func truncatedLastRecordKeepsAllTheOthers() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let frames = frames(5)
        let path = try writeCapture(Array(classic(frames).dropLast(10)), "last.pcap", in: dir)
        let loaded = try TraceLoader.load(path: path)
        #expect(loaded.trace.count == 4)
        #expect((0..<4).allSatisfy { Array(loaded.trace.frame($0)) == frames[$0] })
        let error = try #require(loaded.error)
        guard case .truncated = error else { Issue.record("expected .truncated, got \(error)"); return }
        #expect(error.packetNumber == 5)
        #expect(error.description.hasPrefix("capture '\(path)' is truncated at packet 5 (the 4 packets before it were read): "))
    }

    @Test func bogusMagicOnAnOtherwiseValidFile() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        var bytes = classic(frames(3))
        bytes.replaceSubrange(0..<4, with: [0xef, 0xbe, 0xad, 0xde])
        let path = try writeCapture(bytes, "magic.pcap", in: dir)
        #expect(throws: TraceError.self) { _ = try TraceLoader.load(path: path) }
        do { _ = try TraceLoader.load(path: path) } catch {
            guard case .notACapture = error else { Issue.record("expected .notACapture, got \(error)"); return }
            #expect(error.description.hasPrefix("'\(path)' is not a pcap or pcapng capture"))
        }
    }

    /// An interface block with the `if_tsresol` option (9: nanoseconds).
    static func idbNanoseconds(linkType: UInt16) -> [UInt8] {
        var b = ByteWriter()
        b.u16(linkType); b.u16(0); b.u32(65535)
        b.u16(9); b.u16(1); b.raw([9, 0, 0, 0])  // if_tsresol = 10^-9, padded
        b.u16(0); b.u16(0)  // opt_endofopt
        return PcapngTests.block(1, b.bytes)
    }

    @Test func pcapngNanosecondInterface() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let stamp: UInt64 = 1_700_000_000_123_456_789
        let file = PcapngTests.shb() + Self.idbNanoseconds(linkType: 1)
            + PcapngTests.epb(interface: 0, micros: stamp, data: [1, 2, 3])  // units of the interface: ns
            + PcapngTests.epb(interface: 0, micros: stamp + 1, data: [4])
        let trace = try TraceLoader.loadComplete(path: try writeCapture(file, "nano.pcapng", in: dir))
        #expect(trace.records.map(\.timestampNanos) == [stamp, stamp + 1])
    }

    @Test func pcapngThreeInterfacesOfOneLinkType() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let file = PcapngTests.shb() + PcapngTests.idb(linkType: 1) + PcapngTests.idb(linkType: 1)
            + Self.idbNanoseconds(linkType: 1)
            + PcapngTests.epb(interface: 2, micros: 5_000, data: [3])
            + PcapngTests.epb(interface: 0, micros: 6, data: [1])
            + PcapngTests.epb(interface: 1, micros: 7, data: [2])
        let trace = try TraceLoader.loadComplete(path: try writeCapture(file, "three.pcapng", in: dir))
        #expect(trace.count == 3)
        // Each interface's own resolution: 5,000 ns, then 6 and 7 µs.
        #expect(trace.records.map(\.timestampNanos) == [5_000, 6_000, 7_000])
        #expect(trace.records.map(\.interfaceID) == [2, 0, 1])
        #expect(trace.linkType == .ethernet)
    }

    /// libpcap (1.10) reads one link type per capture: a pcapng file whose interfaces differ
    /// stops at the first block of the second kind. The packets before it are kept and the
    /// message names the file and the packet where reading stopped.
    @Test func pcapngWithTwoLinkTypesKeepsThePacketsBeforeTheSecond() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let ip: [UInt8] = [0x45] + [UInt8](repeating: 0, count: 39)
        let file = PcapngTests.shb() + PcapngTests.idb(linkType: 1)
            + PcapngTests.epb(interface: 0, micros: 1, data: [UInt8](repeating: 1, count: 60))
            + PcapngTests.epb(interface: 0, micros: 2, data: [UInt8](repeating: 2, count: 60))
            + PcapngTests.idb(linkType: 101)
            + PcapngTests.epb(interface: 1, micros: 3, data: ip)
        let path = try writeCapture(file, "mixed.pcapng", in: dir)
        let loaded = try TraceLoader.load(path: path)
        let error = try #require(loaded.error, "libpcap read a second link type: keep each frame's own and change this test")
        #expect(loaded.trace.count == 2)
        #expect(loaded.trace.linkType == .ethernet)
        #expect(error.packetNumber == 3)
        #expect(error.description.contains(path) && error.description.contains("packet 3"))
        #expect(error.description.contains("different from the type of the first interface"))
    }
}
