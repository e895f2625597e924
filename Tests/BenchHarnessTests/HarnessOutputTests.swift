import Foundation
import PacketParsing
import Testing
import TraceIO
@testable import BenchHarness

/// `--output DIR` and the warnings a user can act on.
@Suite struct HarnessOutputTests {
    @Test func outputWritesTheJSONNamedAfterTraceOptionsAndTime() async throws {
        let directory = Samples.temporaryFile("output-dir")
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let command = try RunCommand.parse([Samples.trace("tftp.pcap"), "--threads", "2", "--batch", "16", "--output", directory])
        let report = try await command.execute(try command.loadTraces())
        try command.writeResult(report, into: directory)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.count == 1)
        let name = try #require(files.first)
        #expect(name.hasPrefix("tftp-t2-b16-s8-") && name.hasSuffix("Z.json"), "\(name)")
        let data = try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((object["packets"] as? NSNumber)?.intValue == 72)
        #expect((object["threads"] as? NSNumber)?.intValue == 2)
    }

    @Test func anUnsupportedLinkTypeIsNamedInAWarning() throws {
        let path = Samples.temporaryFile("user0.pcap")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try PcapWriter(path: path, linkType: LinkType(rawValue: 147))  // DLT_USER0
        writer.write(frame: [UInt8](repeating: 0xAB, count: 60), wireLength: 60, timestampNanos: 1_000)
        try writer.close()
        let loaded = try RunCommand.parse([path]).loadTraces()
        #expect(!loaded.skippedAnything)
        #expect(loaded.messages.count == 1)
        #expect(loaded.messages.first?.contains("link type dlt-147 is not one ctbench parses") == true)
        #expect(loaded.messages.first?.contains(path) == true)
    }
}
