import Foundation
import Testing
@testable import BenchHarness

/// The latency histograms in the report: every packet recorded once, percentiles ordered,
/// absent with --no-latency.
@Suite struct LatencyReportTests {
    func json(_ arguments: [String]) async throws -> [String: Any] {
        let command = try RunCommand.parse(arguments + ["--json"])
        let report = try await command.execute(try command.loadTraces())
        return try #require(try JSONSerialization.jsonObject(with: Data(try report.jsonText().utf8)) as? [String: Any])
    }

    @Test(arguments: [["--threads", "1"], ["--threads", "2", "--batch", "16"], ["--single-partition"]])
    func everyPacketIsTimedOnce(options: [String]) async throws {
        let object = try await json([Samples.trace("sample-mixed.pcap")] + options)
        let latency = try #require(object["latency_ns"] as? [String: NSNumber])
        let batches = try #require(object["batch_service_ns"] as? [String: NSNumber])
        #expect(latency["count"]?.intValue == 3000)
        let p = ["p50", "p90", "p99", "p999", "max"].map { latency[$0]?.uint64Value ?? 0 }
        #expect(p.first! > 0)
        #expect(p == p.sorted(), "percentiles must not decrease: \(p)")
        #expect((batches["count"]?.intValue ?? 0) > 0)
        #expect((batches["p50"]?.uint64Value ?? 0) <= (batches["max"]?.uint64Value ?? 0))
    }

    @Test func noLatencyMeansNoFigures() async throws {
        let object = try await json([Samples.trace("tftp.pcap"), "--threads", "2", "--no-latency"])
        #expect(object["latency_ns"] == nil)
        #expect(object["batch_service_ns"] == nil)
    }
}
