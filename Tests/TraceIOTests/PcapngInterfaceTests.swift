import Foundation
import Testing
import TraceIO

/// pcapng interface ids, which libpcap does not report: `PcapngInterfaces` reads them from the
/// block headers and `TraceLoader` puts them in the records.
@Suite struct PcapngInterfaceTests {
    /// A simple packet block (always interface 0).
    static func spb(data: [UInt8]) -> [UInt8] {
        var b = ByteWriter()
        b.u32(UInt32(data.count)); b.raw(data)
        return PcapngTests.block(3, b.bytes)
    }

    /// `little` with every 32-bit word of the block framing and the fields we read swapped:
    /// the same file written by a big-endian host (section header, interfaces, packets).
    static func bigEndian(_ blocks: [[UInt8]], swapping fields: [[Range<Int>]]) -> [UInt8] {
        var out: [UInt8] = []
        for (block, ranges) in zip(blocks, fields) {
            var b = block
            let framing = [0..<4, 4..<8, (b.count - 4)..<b.count]
            for range in framing + ranges { b[range].reverse() }
            out += b
        }
        return out
    }

    @Test func eachPacketCarriesItsInterface() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let file = PcapngTests.shb() + PcapngTests.idb(linkType: 1) + PcapngTests.idb(linkType: 1)
            + PcapngTests.idb(linkType: 1)
            + PcapngTests.epb(interface: 2, micros: 10, data: [1, 2, 3])
            + PcapngTests.epb(interface: 1, micros: 20, data: [4, 5, 6, 7])
            + Self.spb(data: [9, 9])
            + PcapngTests.epb(interface: 0, micros: 30, data: [8])
        let path = dir.appendingPathComponent("three.pcapng").path
        try Data(file).write(to: URL(fileURLWithPath: path))
        #expect(PcapngInterfaces.ids(path: path) == [2, 1, 0, 0])
        let trace = try TraceLoader.loadComplete(path: path)
        #expect(trace.records.map(\.interfaceID) == [2, 1, 0, 0])
        #expect(Array(trace.frame(2)) == [9, 9])
    }

    @Test func aBigEndianFileReadsTheSame() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let blocks = [PcapngTests.shb(), PcapngTests.idb(linkType: 1), PcapngTests.idb(linkType: 1),
                      PcapngTests.epb(interface: 1, micros: 10, data: [1, 2, 3, 4]),
                      PcapngTests.epb(interface: 0, micros: 20, data: [5, 6, 7, 8])]
        // Fields: SHB magic, version, section length; IDB link type, snap length; EPB interface,
        // timestamps, lengths.
        let shb = [8..<12, 12..<14, 14..<16, 16..<24]
        let idb = [8..<10, 12..<16]
        let epb = [8..<12, 12..<16, 16..<20, 20..<24, 24..<28]
        let file = Self.bigEndian(blocks, swapping: [shb, idb, idb, epb, epb])
        let path = dir.appendingPathComponent("big.pcapng").path
        try Data(file).write(to: URL(fileURLWithPath: path))
        #expect(PcapngInterfaces.ids(path: path) == [1, 0])
        let trace = try TraceLoader.loadComplete(path: path)
        #expect(trace.records.map(\.interfaceID) == [1, 0])
        #expect(Array(trace.frame(0)) == [1, 2, 3, 4])
    }

    @Test func classicPcapHasNoInterfaceIDsAndACutFileKeepsWhatWasRead() throws {
        let dir = try makeTempDirectory()
        defer { cleanup(dir) }
        let pcap = dir.appendingPathComponent("classic.pcap").path
        try Data([0xd4, 0xc3, 0xb2, 0xa1] + [UInt8](repeating: 0, count: 20)).write(to: URL(fileURLWithPath: pcap))
        #expect(PcapngInterfaces.ids(path: pcap) == nil)
        #expect(PcapngInterfaces.ids(path: dir.appendingPathComponent("missing").path) == nil)
        let full = PcapngTests.shb() + PcapngTests.idb(linkType: 1) + PcapngTests.idb(linkType: 1)
            + PcapngTests.epb(interface: 1, micros: 10, data: Array(repeating: 1, count: 40))
            + PcapngTests.epb(interface: 0, micros: 20, data: Array(repeating: 2, count: 40))
        let cut = dir.appendingPathComponent("cut.pcapng").path
        try Data(full.dropLast(20)).write(to: URL(fileURLWithPath: cut))
        let loaded = try TraceLoader.load(path: cut)
        #expect(loaded.trace.records.map(\.interfaceID) == [1])
        #expect(loaded.error?.packetNumber == 2)
    }
}
