import ArgumentParser
import Foundation
import Testing
import TraceSynthesis
@testable import BenchHarness

/// `ctbench sweep`: one run per table size, and the smallest size that refuses nothing.
@Suite struct SweepCommandTests {
    static func sweep(_ arguments: [String]) async throws -> SweepResult {
        let command = try SweepCommand.parse(arguments)
        return try await command.sweep(try command.runCommand(maxConns: 1).loadTraces())
    }

    /// A trace of `flows` TCP flows, all open at once (nothing else), written to a temporary pcap
    /// (the caller removes it).
    static func flowsTrace(_ flows: Int) throws -> (path: String, connections: Int) {
        var config = GeneratorConfig()
        config.tcpFlows = flows
        config.concurrency = flows
        config.packets = flows * 12
        config.udpShare = 0
        config.icmpShare = 0
        config.ipv6Share = 0
        config.rstShare = 0
        let (trace, summary) = TraceGenerator(config: config).generate()
        let path = Samples.temporaryFile("flows-\(flows).pcap")
        try trace.write(to: path)
        return (path, summary.connections)
    }

    @Test func tftpTraceNeedsSixteen() async throws {
        // traces/tftp.pcap: 8 TFTP transfers, each a request and the server's reply connection.
        let result = try await Self.sweep(["--max-conns", "4,8,16,32", Samples.trace("tftp.pcap")])
        #expect(result.rows.map(\.maxConns) == [4, 8, 16, 32])
        #expect(result.rows.map { $0.refused > 0 } == [true, true, false, false])
        #expect(result.rows.map(\.report.connections.live) == [4, 8, 16, 16])
        #expect(result.recommended?.maxConns == 16)
        #expect(result.recommendationLine == "smallest table that refuses nothing: 16 (16 live at the end)")
        let table = result.table()
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.last == result.recommendationLine)
        #expect(lines[1].split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                == "max-conns per shard Mpps peak RSS RSS + B/slot live at end refused refuses")
        #expect(lines[2].hasPrefix("        4          4 ") && lines[2].hasSuffix("  yes"))
        #expect(lines[4].hasPrefix("       16         16 ") && lines[4].hasSuffix("  no"))
        #expect(table.contains("note: peak RSS is the process's high-water mark"))
    }

    @Test func sizesRunSmallestFirstEachOnce() async throws {
        let result = try await Self.sweep(["--max-conns", "32,16", "--max-conns", "8,16", Samples.trace("tftp.pcap")])
        #expect(result.rows.map(\.maxConns) == [8, 16, 32])
        #expect(result.recommended?.maxConns == 16)
    }

    @Test func noSizeEnoughIsSaid() async throws {
        let result = try await Self.sweep(["--max-conns", "4,8", Samples.trace("tftp.pcap")])
        #expect(result.recommended == nil)
        #expect(result.recommendationLine.hasPrefix("none of the sizes was enough: the largest, 8, refused "))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try result.jsonText().utf8)) as? [String: Any])
        #expect(json["recommended_max_conns"] is NSNull)
    }

    /// With two shards each holds ceil(size / 2): the size needed is twice the busiest shard's
    /// connection count, which the unlimited run measures.
    @Test func twoShardsNeedTwiceTheBusiestShard() async throws {
        let trace = Samples.trace("tftp.pcap")
        let unlimited = try await Self.sweep(["--max-conns", "1000", "--threads", "2", "--shards-per-thread", "1", trace])
        let perShard = unlimited.rows[0].report.shards.liveConnections
        #expect(perShard.count == 2 && perShard.reduce(0, +) == 16)
        let busiest = try #require(perShard.max())
        let sizes = [4, 8, 15, 16, 17, 18, 19, 20, 21, 22, 24, 32]
        let result = try await Self.sweep(["--max-conns", sizes.map(String.init).joined(separator: ","), "--threads", "2",
                                           "--shards-per-thread", "1", trace])
        #expect(result.threads == 2)
        #expect(result.rows.map(\.perShard) == sizes.map { ($0 + 1) / 2 })
        for row in result.rows {
            #expect((row.refused > 0) == (row.perShard < busiest), "size \(row.maxConns)")
        }
        let expected = try #require(sizes.first { ($0 + 1) / 2 >= busiest })
        #expect(result.recommended?.maxConns == expected)
        #expect(result.recommendationLine.hasSuffix(
            "(16 live at the end; 2 shards of \(ResultComparison.groupDigits(Int64((expected + 1) / 2))), the busiest holding \(busiest))"))
    }

    /// `--shards-per-thread` reaches every run: two threads of three shards each hold ceil(size / 6).
    @Test func shardsPerThreadDividesTheTableFurther() async throws {
        let result = try await Self.sweep(["--max-conns", "12,1000", "--threads", "2", "--shards-per-thread", "3",
                                           Samples.trace("tftp.pcap")])
        #expect(result.threads == 6)
        #expect(result.rows.map(\.perShard) == [2, 167])
        #expect(result.rows.allSatisfy { $0.report.shards.packets.count == 6 })
    }

    @Test func aGeneratedTraceOfAHundredFlowsNeedsAHundred() async throws {
        let (path, connections) = try Self.flowsTrace(100)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(connections == 100)
        let result = try await Self.sweep(["--max-conns", "50,99,100,101,200", "--no-alg", "--loop", "2", path])
        #expect(result.rows.map { $0.refused > 0 } == [true, true, false, false, false])
        // The second loop commits each flow again, replacing its closed connection.
        #expect(result.rows[2].report.connections.committed == 200)
        #expect(result.rows[2].report.connections.live == 100)
        #expect(result.rows[2].report.loops == 2)
        #expect(result.recommended?.maxConns == 100)
        #expect(result.recommendationLine == "smallest table that refuses nothing: 100 (100 live at the end)")
    }

    @Test func jsonHasTheRunsAndTheRecommendation() async throws {
        let result = try await Self.sweep(["--max-conns", "8,16,32", "--json", Samples.trace("tftp.pcap")])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try result.jsonText().utf8)) as? [String: Any])
        #expect((object["recommended_max_conns"] as? NSNumber)?.intValue == 16)
        #expect(object["max_conns"] as? [Int] == [8, 16, 32])
        #expect((object["rss_added_bytes"] as? [Any])?.count == 3)
        let runs = try #require(object["runs"] as? [[String: Any]])
        #expect(runs.count == 3)
        let limits = runs.compactMap { ($0["connections"] as? [String: Any])?["max_connections"] as? Int }
        #expect(limits == [8, 16, 32])
        #expect(runs.allSatisfy { ($0["packets"] as? NSNumber)?.intValue == 72 })
    }

    @Test func runOptionsReachEveryRun() throws {
        let command = try SweepCommand.parse(["--max-conns", "64", "--threads", "3", "--batch", "32", "--loop", "2",
                                              "--warmup", "1", "--no-alg", "--timeout", "udp_first=5", "--", "a.pcap", "-b.pcap"])
        let run = try command.runCommand(maxConns: 1000)
        #expect(run.traces == ["a.pcap", "-b.pcap"])
        #expect(run.threads == 3 && run.batch == 32 && run.loop == 2 && run.warmup == 1)
        #expect(!run.json && !run.singlePartition)
        let settings = try run.table.settings()
        #expect(settings.conntrack.maxConnections == 1000)
        #expect(!settings.algsEnabled)
        #expect(settings.conntrack.timeouts[.otherFirst] == 5_000_000_000)
        #expect(try SweepCommand.parse(["--max-conns", "8", "--single-partition", "x.pcap"]).runCommand(maxConns: 8).singlePartition)
        #expect(settings.conntrack.preallocate)
        #expect(try !SweepCommand.parse(["--max-conns", "8", "--lazy-tables", "x.pcap"]).runCommand(maxConns: 8)
            .table.settings().conntrack.preallocate)
    }

    @Test(arguments: [("65536,262144,1048576", [65_536, 262_144, 1_048_576]), ("16", [16]), ("32, 8 ,16", [8, 16, 32]),
                      ("1_000,1000", [1000])])
    func sizeListsParse(text: String, expected: [Int]) throws {
        #expect(try SweepCommand.parseSizes([text]) == expected)
    }

    @Test(arguments: [["--max-conns", "0", "x.pcap"], ["--max-conns", "16,0", "x.pcap"], ["--max-conns", "-4", "x.pcap"],
                      ["--max-conns", "8,,16", "x.pcap"], ["--max-conns", "", "x.pcap"], ["--max-conns", "64k", "x.pcap"],
                      ["--max-conns", "8,", "x.pcap"], ["--max-conns", "abc", "x.pcap"], ["x.pcap"], ["--max-conns", "8"],
                      ["--max-conns", "8", "--threads", "0", "x.pcap"], ["--max-conns", "8", "--batch", "0", "x.pcap"],
                      ["--max-conns", "8", "--loop", "0", "x.pcap"], ["--max-conns", "8", "--verdicts", "v", "x.pcap"]])
    func badOptionsAreRefused(arguments: [String]) {
        let error = #expect(throws: (any Error).self) { _ = try SweepCommand.parse(arguments) }
        #expect(!SweepCommand.message(for: error!).isEmpty)
    }

    @Test func sweepIsASubcommand() throws {
        #expect(try CTBench.parseAsRoot(["sweep", "--max-conns", "8", "x.pcap"]) is SweepCommand)
        #expect(try CTBench.parseAsRoot(["compare", "a.json", "b.json"]) is CompareCommand)
    }
}
