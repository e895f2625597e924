import Foundation
import Testing
@testable import BenchHarness

/// `ctbench run --passes N`: N timed passes over the trace, each on a fresh table; the report
/// is the median pass's, the files the first pass's, and every pass gives the same answers.
@Suite struct PassesTests {
    @Test(arguments: [["--single-partition"], ["--threads", "2", "--batch", "16"]])
    func theReportIsTheMedianPassWithTheSameAnswers(mode: [String]) async throws {
        let trace = Samples.trace("sample-mixed.pcap")
        let onePassVerdicts = Samples.temporaryFile("one-pass-verdicts.tsv")
        let threePassVerdicts = Samples.temporaryFile("three-pass-verdicts.tsv")
        defer {
            for path in [onePassVerdicts, threePassVerdicts] { try? FileManager.default.removeItem(atPath: path) }
        }
        let one = try RunCommand.parse([trace, "--no-latency", "--verdicts", onePassVerdicts] + mode)
        let onePass = try await one.execute(try one.loadTraces())
        let three = try RunCommand.parse([trace, "--no-latency", "--passes", "3", "--verdicts", threePassVerdicts] + mode)
        let report = try await three.execute(try three.loadTraces())

        #expect(onePass.passesPPS == nil)
        let passes = try #require(report.passesPPS)
        #expect(passes.count == 3)
        #expect(report.pps == passes.sorted()[1], "the figures are the median pass's")
        #expect(report.packets == onePass.packets)
        #expect(report.states == onePass.states)
        #expect(report.connections.committed == onePass.connections.committed)
        #expect(report.expectations.matched == onePass.expectations.matched)
        #expect(report.forwarded == onePass.forwarded && report.dropped == onePass.dropped)
        let verdicts = try String(contentsOfFile: threePassVerdicts, encoding: .utf8)
        #expect(verdicts == (try String(contentsOfFile: onePassVerdicts, encoding: .utf8)))
        #expect(verdicts.split(separator: "\n").count == Int(report.packets), "one verdict a packet: the first pass's only")
        #expect(report.table().contains("passes        3 on fresh tables"))
        #expect(try report.jsonText().contains("\"passes_pps\""))
    }

    @Test(arguments: ["0", "101"])
    func passesOutOfRangeAreRefused(count: String) {
        #expect(throws: (any Error).self) { _ = try RunCommand.parse(["x.pcap", "--passes", count]) }
    }
}
