import ArgumentParser
import Foundation
import Testing
@testable import BenchHarness

/// `ctbench compare`: verdicts, exit statuses and tolerance parsing on hand-written results.
@Suite struct CompareCommandTests {
    /// A minimal `ctbench run --json` object; the arguments are the figures the tests vary.
    static func result(pps: Double = 1_000_000, rss: Int = 50_000_000, traces: [String] = ["traces/sample-mixed.pcap"],
                       packets: Int = 3000, newConnections: Int = 100, dropped: Int = 0,
                       extra: [String: Any] = [:]) -> [String: Any] {
        var object: [String: Any] = [
            "version": "0.1.0", "traces": traces, "packets": packets, "bytes": packets * 200, "loops": 1, "threads": 1,
            "batch": 256, "mode": "sharded", "seconds": Double(packets) / pps, "pps": pps,
            "gbps": pps * 200 * 8 / 1e9, "peak_rss_bytes": rss, "dropped": dropped, "forwarded": packets - dropped,
            "states": ["+trk+new": newConnections, "+trk+est": packets - newConnections],
            "connections": ["committed": newConnections, "live": newConnections, "bytes_per_slot": 152.0],
            "expectations": ["created": 10, "matched": 10],
            "cross_shard_messages": ["total": 0, "per_packet": 0.0],
            "skipped_input": false,
        ]
        object.merge(extra) { $1 }
        return object
    }

    static func write(_ object: [String: Any], _ name: String) throws -> String {
        let path = Samples.temporaryFile(name)
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func compare(_ baseline: [String: Any], _ current: [String: Any], _ options: [String] = []) throws
        -> CompareCommand.Outcome
    {
        let b = try write(baseline, "base-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(atPath: b) }
        let c = try write(current, "cur-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(atPath: c) }
        return try CompareCommand.parse([b, c] + options).evaluate()
    }

    static func lastLine(_ text: String) -> String { String(text.split(separator: "\n").last ?? "") }

    static func verdict(_ outcome: CompareCommand.Outcome, _ figure: String) -> ResultComparison.Verdict? {
        outcome.comparison?.rows.first { $0.figure == figure }?.verdict
    }

    @Test func identicalResultsPass() throws {
        let outcome = try Self.compare(Self.result(), Self.result())
        #expect(outcome.status == 0)
        #expect(Self.lastLine(outcome.output) == "OK: nothing worse than 10%, correctness figures equal")
        #expect(outcome.comparison?.correctnessCompared == true)
        #expect(outcome.comparison?.rows.allSatisfy { $0.verdict == .ok } == true)
    }

    @Test func fasterIsBetterAndPasses() throws {
        let outcome = try Self.compare(Self.result(pps: 1_000_000), Self.result(pps: 1_500_000))
        #expect(outcome.status == 0)
        #expect(Self.verdict(outcome, "pps") == .better)
        #expect(Self.verdict(outcome, "ns_per_packet") == .better)
        let ppsLine = try #require(outcome.output.split(separator: "\n").first { $0.hasPrefix("pps ") })
        #expect(ppsLine.hasSuffix("+50.0%  better"))
    }

    @Test func slowerBeyondTheToleranceFailsAndSaysWhich() throws {
        let outcome = try Self.compare(Self.result(pps: 1_000_000), Self.result(pps: 800_000))
        #expect(outcome.status == 1)
        #expect(Self.verdict(outcome, "pps") == .worse)
        let ppsLine = try #require(outcome.output.split(separator: "\n").first { $0.hasPrefix("pps ") })
        #expect(ppsLine.hasSuffix("-20.0%  WORSE"))
        #expect(Self.lastLine(outcome.output) == "FAIL: 3 worse (pps, gbps, ns_per_packet)")
    }

    @Test func slowerWithinTheTolerancePasses() throws {
        let outcome = try Self.compare(Self.result(pps: 1_000_000), Self.result(pps: 950_000))
        #expect(outcome.status == 0)
        #expect(Self.verdict(outcome, "pps") == .ok)
        // The same pair fails with a tighter tolerance, given either way.
        #expect(try Self.compare(Self.result(pps: 1_000_000), Self.result(pps: 950_000), ["--tolerance", "2%"]).status == 1)
        #expect(try Self.compare(Self.result(pps: 1_000_000), Self.result(pps: 950_000), ["--tolerance", "0.02"]).status == 1)
    }

    @Test func moreMemoryIsWorse() throws {
        let outcome = try Self.compare(Self.result(rss: 50_000_000), Self.result(rss: 60_000_000))
        #expect(outcome.status == 1)
        #expect(Self.verdict(outcome, "peak_rss_bytes") == .worse)
        #expect(Self.lastLine(outcome.output) == "FAIL: 1 worse (peak_rss_bytes)")
    }

    @Test func aStateCountThatDiffersFailsWhateverTheTolerance() throws {
        let outcome = try Self.compare(Self.result(newConnections: 100), Self.result(newConnections: 101),
                                       ["--tolerance", "100%"])
        #expect(outcome.status == 1)
        #expect(Self.verdict(outcome, "states.+trk+new") == .differs)
        #expect(Self.verdict(outcome, "states.+trk+est") == .differs)
        #expect(Self.verdict(outcome, "connections.committed") == .differs)
        #expect(outcome.output.contains("DIFFERS"))
        #expect(Self.lastLine(outcome.output).hasPrefix("FAIL: 3 differ (states.+trk+est, states.+trk+new, connections.committed)"))
    }

    @Test func aStateOnlyOneSideHasDiffers() throws {
        var current = Self.result()
        current["states"] = ["+trk+new": 100, "+trk+est": 2899, "+trk+inv": 1]
        let outcome = try Self.compare(Self.result(), current)
        #expect(outcome.status == 1)
        #expect(Self.verdict(outcome, "states.+trk+inv") == .differs)
        #expect(Self.verdict(outcome, "states.+trk+new") == .ok)
    }

    @Test func actionCountsOfFlowTablesMustBeEqualAndTheirFilesAreNoted() throws {
        let same = Self.result(extra: ["flows": "flows/seed-flows1.flows", "actions": ["output:1": 2000, "drop": 1000]])
        #expect(try Self.compare(same, same).status == 0)
        let other = Self.result(extra: ["flows": "flows/seed-flows2.flows", "actions": ["output:1": 1999, "drop": 1001]])
        let outcome = try Self.compare(same, other)
        #expect(outcome.status == 1)
        #expect(Self.verdict(outcome, "actions.drop") == .differs && Self.verdict(outcome, "actions.output:1") == .differs)
        #expect(outcome.output.contains("flow table differs: flows/seed-flows1.flows vs flows/seed-flows2.flows"))
        // A run with a flow table against one without: its actions are all "only on one side".
        #expect(Self.verdict(try Self.compare(Self.result(), same), "actions.drop") == .differs)
    }

    /// Two sharded runs over different shard counts (`--shards-per-thread`) say so, as different
    /// thread counts do.
    @Test func differentShardCountsAreNoted() throws {
        let eight = Self.result(extra: ["threads": 2, "shards": ["packets": [375, 375, 375, 375, 375, 375, 375, 375]]])
        let two = Self.result(extra: ["threads": 2, "shards": ["packets": [1500, 1500]]])
        #expect(try Self.compare(two, eight).output.contains("shards differ: 2 vs 8"))
        #expect(!(try Self.compare(eight, eight).output.contains("shards differ")))
    }

    @Test func droppedAndExpectationsMustBeEqual() throws {
        #expect(try Self.compare(Self.result(dropped: 0), Self.result(dropped: 1)).status == 1)
        var current = Self.result()
        current["expectations"] = ["created": 10, "matched": 9]
        let outcome = try Self.compare(Self.result(), current)
        #expect(Self.verdict(outcome, "expectations.matched") == .differs)
        #expect(Self.verdict(outcome, "expectations.created") == .ok)
    }

    @Test func differentTracesCompareOnlyPerformanceAndExitTwo() throws {
        let outcome = try Self.compare(Self.result(traces: ["a.pcap"]), Self.result(traces: ["b.pcap"], newConnections: 7))
        #expect(outcome.status == 2)
        #expect(outcome.comparison?.correctnessCompared == false)
        #expect(outcome.comparison?.rows.allSatisfy { $0.direction != .exact } == true)
        #expect(!outcome.output.contains("states."))
        #expect(Self.lastLine(outcome.output)
                == "UNUSABLE: different traces (a.pcap vs b.pcap): performance compared only, nothing worse")
        let slower = try Self.compare(Self.result(traces: ["a.pcap"]), Self.result(pps: 500_000, traces: ["b.pcap"]))
        #expect(slower.status == 2)
        #expect(Self.lastLine(slower.output).hasSuffix(": 3 worse (pps, gbps, ns_per_packet)"))
    }

    @Test func theSameTraceFromAnotherDirectoryIsTheSameTrace() throws {
        let outcome = try Self.compare(Self.result(traces: ["traces/x.pcap"]), Self.result(traces: ["/ci/work/traces/x.pcap"]))
        #expect(outcome.status == 0)
        #expect(outcome.comparison?.correctnessCompared == true)
    }

    @Test func differentPacketCountsSkipTheCorrectnessFigures() throws {
        let outcome = try Self.compare(Self.result(packets: 3000), Self.result(packets: 6000, newConnections: 200))
        #expect(outcome.status == 0)
        #expect(outcome.comparison?.correctnessCompared == false)
        #expect(outcome.output.contains("note: packet counts differ (3,000 vs 6,000): correctness figures not compared"))
    }

    @Test func latencyFiguresAreComparedWhenBothHaveThem() throws {
        let base = Self.result(extra: ["latency_ns": ["p50": 100, "p99": 1000, "p999": 5000, "max": 9000]])
        let slowTail = Self.result(extra: ["latency_ns": ["p50": 100, "p99": 1500, "p999": 5000, "max": 9000]])
        let outcome = try Self.compare(base, slowTail)
        #expect(outcome.status == 1)
        #expect(Self.verdict(outcome, "latency_ns.p99") == .worse)
        #expect(Self.verdict(outcome, "latency_ns.p50") == .ok)
        let onlyOne = try Self.compare(Self.result(), slowTail)
        #expect(onlyOne.status == 0)
        #expect(onlyOne.output.contains("note: latency_ns.p99 is only in the current result: not compared"))
    }

    @Test func aMissingFileIsUnusable() throws {
        let present = try Self.write(Self.result(), "present.json")
        defer { try? FileManager.default.removeItem(atPath: present) }
        let outcome = try CompareCommand.parse(["/nonexistent/base.json", present]).evaluate()
        #expect(outcome.status == 2)
        #expect(outcome.output.isEmpty)
        #expect(outcome.errorOutput == "ctbench compare: /nonexistent/base.json: no such file")
    }

    @Test func notJSONIsUnusable() throws {
        let text = Samples.temporaryFile("not-json.json")
        defer { try? FileManager.default.removeItem(atPath: text) }
        try Data("hello\nworld\n".utf8).write(to: URL(fileURLWithPath: text))
        let present = try Self.write(Self.result(), "present2.json")
        defer { try? FileManager.default.removeItem(atPath: present) }
        let outcome = try CompareCommand.parse([present, text]).evaluate()
        #expect(outcome.status == 2)
        #expect(outcome.errorOutput.contains("\(text): no JSON object in it"))
    }

    @Test func jsonThatIsNotARunResultIsUnusable() throws {
        let other = try Self.write(["runs": [], "recommended_max_conns": NSNull()], "sweep.json")
        defer { try? FileManager.default.removeItem(atPath: other) }
        let present = try Self.write(Self.result(), "present3.json")
        defer { try? FileManager.default.removeItem(atPath: present) }
        let outcome = try CompareCommand.parse([present, other]).evaluate()
        #expect(outcome.status == 2)
        #expect(outcome.errorOutput.contains("not a ctbench run result (no packets, seconds, pps, traces)"))
    }

    @Test func aParseOnlyResultIsNotComparedWithAFullRun() throws {
        let parseOnly: [String: Any] = ["mode": "parse-only", "packets": 3000, "seconds": 0.001, "pps": 3e6,
                                        "traces": ["traces/sample-mixed.pcap"], "parse": [:] as [String: Any]]
        let outcome = try Self.compare(parseOnly, Self.result())
        #expect(outcome.status == 2)
        #expect(outcome.errorOutput.contains("--parse-only"))
        #expect(try Self.compare(parseOnly, parseOnly).status == 0)
    }

    @Test func aFileOfSeveralLinesIsReadFromItsLastJSONLine() throws {
        let path = Samples.temporaryFile("several.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        func line(_ object: [String: Any]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        let text = "warning: something\n" + (try line(Self.result(pps: 1))) + "\n" + (try line(Self.result(pps: 2_000_000)))
            + "\nnot json\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let object = try CompareCommand.loadResult(path)
        #expect(ResultComparison.number(object["pps"]) == 2_000_000)
    }

    @Test func jsonOutputCarriesTheVerdicts() throws {
        let outcome = try Self.compare(Self.result(pps: 1_000_000), Self.result(pps: 800_000), ["--json"])
        #expect(outcome.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [String: Any])
        #expect((object["exit_status"] as? NSNumber)?.intValue == 1)
        #expect(object["worse"] as? [String] == ["pps", "gbps", "ns_per_packet"])
        #expect(object["differs"] as? [String] == [])
        #expect((object["tolerance"] as? NSNumber)?.doubleValue == 0.1)
        let figures = try #require(object["figures"] as? [[String: Any]])
        let pps = try #require(figures.first { $0["figure"] as? String == "pps" })
        #expect(pps["verdict"] as? String == "worse")
        #expect(pps["direction"] as? String == "higher")
        #expect(abs(((pps["change_percent"] as? NSNumber)?.doubleValue ?? 0) + 20) < 1e-9)
    }

    @Test(arguments: [("10%", 0.1), ("0.1", 0.1), ("2.5%", 0.025), ("0", 0.0), ("0%", 0.0), ("1", 1.0), (" 5% ", 0.05),
                      ("150%", 1.5)])
    func toleranceParses(text: String, expected: Double) {
        let parsed = ResultComparison.parseTolerance(text)
        #expect(parsed != nil && abs(parsed! - expected) < 1e-12, "\(text)")
    }

    @Test(arguments: ["", "%", "abc", "-5%", "-0.1", "10", "1.5", "nan", "inf%", "10%%", "ten%"])
    func badTolerancesAreRefused(text: String) {
        #expect(ResultComparison.parseTolerance(text) == nil, "\(text)")
        let error = #expect(throws: (any Error).self) { _ = try CompareCommand.parse(["a.json", "b.json", "--tolerance", text]) }
        #expect(CompareCommand.message(for: error!).contains("--tolerance"))
    }

    @Test func bothFilesAreRequired() {
        #expect(throws: (any Error).self) { _ = try CompareCommand.parse(["a.json"]) }
        #expect(throws: (any Error).self) { _ = try CompareCommand.parse([]) }
    }

    @Test func judgeAtTheEdges() {
        typealias C = ResultComparison
        #expect(C.judge(baseline: 0, current: 0, direction: .lowerIsBetter, tolerance: 0) == .ok)
        #expect(C.judge(baseline: 0, current: 0.1, direction: .lowerIsBetter, tolerance: 0.5) == .worse)
        #expect(C.judge(baseline: 100, current: 100, direction: .higherIsBetter, tolerance: 0) == .ok)
        #expect(C.judge(baseline: 100, current: 99, direction: .higherIsBetter, tolerance: 0) == .worse)
        #expect(C.judge(baseline: 100, current: 99, direction: .lowerIsBetter, tolerance: 0) == .better)
    }
}

/// The `ctbench compare` executable's exit statuses (the mapping through `CTBench.runMain`).
@Suite struct CompareExecutableTests {
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = AllocatorTests.ctbench
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: !AllocatorTests.underSanitizer, "the executable links jemalloc"))
    func exitStatusesReachTheShell() throws {
        let base = try CompareCommandTests.write(CompareCommandTests.result(pps: 1_000_000), "exe-base.json")
        let same = try CompareCommandTests.write(CompareCommandTests.result(pps: 1_000_000), "exe-same.json")
        let slow = try CompareCommandTests.write(CompareCommandTests.result(pps: 500_000), "exe-slow.json")
        let other = try CompareCommandTests.write(CompareCommandTests.result(traces: ["other.pcap"]), "exe-other.json")
        defer {
            for path in [base, same, slow, other] { try? FileManager.default.removeItem(atPath: path) }
        }
        #expect(try Self.run(["compare", base, same]).status == 0)
        let worse = try Self.run(["compare", base, slow])
        #expect(worse.status == 1)
        #expect(worse.output.contains("WORSE"))
        #expect(try Self.run(["compare", base, other]).status == 2)
        #expect(try Self.run(["compare", base, "/nonexistent.json"]).status == 2)
        #expect(try Self.run(["compare", base, same, "--tolerance", "bad"]).status == 64)
    }

    @Test(.enabled(if: !AllocatorTests.underSanitizer, "the executable links jemalloc"))
    func sweepRunsFromTheShell() throws {
        let (status, output) = try Self.run(["sweep", "--max-conns", "8,16", Samples.trace("tftp.pcap")])
        #expect(status == 0)
        #expect(output.split(separator: "\n").last == "smallest table that refuses nothing: 16 (16 live at the end)")
    }
}
