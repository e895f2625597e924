import Foundation
import Testing
@testable import BenchHarness

/// The ctbench executable on hostile input (issue 8): a truncated capture gives exit status 3
/// and a warning naming the file and packet; a SYN flood through the binary fills the table,
/// refuses and counts the rest, and stays within its memory prediction.
@Suite struct HostileExecutableTests {
    /// Runs ctbench; standard output and error go through files (no pipe can fill up).
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        let out = Samples.temporaryFile("exe-\(UUID().uuidString).out"), err = Samples.temporaryFile("exe-\(UUID().uuidString).err")
        guard FileManager.default.createFile(atPath: out, contents: nil),
              FileManager.default.createFile(atPath: err, contents: nil)
        else { throw CocoaError(.fileWriteUnknown) }
        defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: err) }
        let process = Process()
        process.executableURL = AllocatorTests.ctbench
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOfFile: out, encoding: .utf8),
                try String(contentsOfFile: err, encoding: .utf8))
    }

    @Test(.enabled(if: !AllocatorTests.underSanitizer, "the executable links jemalloc"))
    func truncatedCaptureExitsWithThreeAndNamesThePacket() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Samples.trace("tftp.pcap")))
        let cut = Samples.temporaryFile("exe-cut.pcap")
        try data.prefix(10_000).write(to: URL(fileURLWithPath: cut))
        defer { try? FileManager.default.removeItem(atPath: cut) }
        let (status, output, errors) = try Self.run([cut, "--no-latency"])
        #expect(status == 3)
        #expect(errors.contains("warning: capture '\(cut)' is truncated at packet 38 (the 37 packets before it were read)"))
        #expect(output.contains("replay        37 packets"))
        #expect(output.contains("note: some input was skipped (see the warnings above); exit status 3."))
        #expect(try Self.run([Samples.trace("tftp.pcap"), "--no-latency"]).status == 0)
        #expect(try Self.run(["/nonexistent/x.pcap"]).status == 1)
        #expect(try Self.run([cut, "--max-conns", "0"]).status == 64)
    }

    @Test(.enabled(if: !AllocatorTests.underSanitizer, "the executable links jemalloc"))
    func synFloodThroughTheBinary() throws {
        let flood = Samples.temporaryFile("exe-synflood.pcap")
        defer { try? FileManager.default.removeItem(atPath: flood) }
        let gen = try Self.run(["gen", flood, "--flood", "syn", "--flood-packets", "20000", "--background-flows", "4"])
        #expect(gen.status == 0, "\(gen.errors)")
        let (status, output, errors) = try Self.run([flood, "--max-conns", "2000", "--threads", "2", "--json"])
        #expect(status == 0, "\(errors)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let connections = try #require(object["connections"] as? [String: Any])
        let committed = (connections["committed"] as? NSNumber)?.intValue ?? -1
        let refused = (connections["refused_by_limit"] as? NSNumber)?.intValue ?? -1
        #expect(committed == 2_000 && refused == 4 + 20_000 + 1 - 2_000)
        #expect((connections["live"] as? NSNumber)?.intValue == 2_000)
        #expect(object["peak_rss_within_prediction"] as? Bool == true, "\(String(describing: object["memory_prediction"]))")
        #expect(!errors.contains("warning"))
    }
}
