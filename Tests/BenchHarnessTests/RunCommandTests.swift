import ArgumentParser
import Conntrack
import Foundation
import Testing
@testable import BenchHarness

/// Option parsing, the JSON schema, files written, and exit statuses of `ctbench run`.
@Suite struct RunCommandTests {
    @Test func runIsTheDefaultSubcommand() throws {
        let command = try CTBench.parseAsRoot([Samples.trace("tftp.pcap"), "--json"])
        let run = try #require(command as? RunCommand)
        #expect(run.json)
        #expect(run.traces == [Samples.trace("tftp.pcap")])
    }

    @Test(arguments: [
        ["--loop", "0", "x.pcap"], ["--warmup", "-1", "x.pcap"], ["--checksums", "sometimes", "x.pcap"],
        ["--timeout", "tcp_forever=1", "x.pcap"], ["--zone-limit", "70000=1", "x.pcap"], ["--max-conns", "0", "x.pcap"],
        ["--look-ahead", "sideways", "x.pcap"], ["--shards-per-thread", "0", "x.pcap"],
        ["--shards-per-thread", "33", "x.pcap"],
    ])
    func badOptionsAreRefusedWithAMessage(arguments: [String]) throws {
        let error = #expect(throws: (any Error).self) {
            let command = try RunCommand.parse(arguments)
            _ = try command.table.settings()
        }
        let message = RunCommand.message(for: error!)
        #expect(!message.isEmpty)
    }

    /// `--shards-per-thread`: that many conntrack partitions a thread, with two threads or more
    /// (one thread runs one partition); the report lists every shard and every thread.
    @Test func shardsPerThreadSetsThePartitions() async throws {
        let command = try RunCommand.parse([Samples.trace("sample-mixed.pcap"), "--threads", "2", "--shards-per-thread", "3",
                                            "--batch", "8"])
        let report = try await command.execute(try command.loadTraces())
        #expect(report.shards.packets.count == 6)
        #expect(report.shards.packets.reduce(0, +) == report.packets)
        #expect(report.shards.shardWindowsTakenByWorker?.count == 2)
        #expect(report.shards.barrierWaitByWorker.count == 2)
        #expect(report.table().contains("6 shards on 2 threads x batch 8"))
        let alone = try RunCommand.parse([Samples.trace("sample-mixed.pcap"), "--threads", "1", "--shards-per-thread", "4"])
        #expect(alone.replay.shardCount == 1)
    }

    @Test func optionsReachTheTable() throws {
        let command = try RunCommand.parse([
            "x.pcap", "--max-conns", "1000", "--zone-limit", "5=10", "--timeout", "tcp_established=60",
            "--verify-checksums", "--no-alg", "--max-expectations-per-master", "4",
        ])
        let settings = try command.table.settings()
        #expect(settings.conntrack.maxConnections == 1000)
        #expect(settings.conntrack.zoneLimits == [5: 10])
        #expect(settings.conntrack.timeouts[.tcpEstablished] == 60_000_000_000)
        #expect(settings.conntrack.checksums == .enforce)
        #expect(!settings.algsEnabled)
        #expect(settings.expectations.perMasterLimit == 4)
    }

    /// The report says which way the walks took each packet: every packet one way or the other,
    /// all through the ring or all directly when `--look-ahead` fixes the way, and directly for
    /// a table as small as a sample trace's (below the floor the measuring starts from).
    @Test(arguments: [["--single-partition"], ["--threads", "2", "--batch", "16"]])
    func theReportCountsThePacketsOfEachWay(mode: [String]) async throws {
        for (way, ring, direct) in [("ring", true, false), ("direct", false, true), ("auto", false, true)] {
            let command = try RunCommand.parse([Samples.trace("sample-mixed.pcap"), "--look-ahead", way] + mode)
            let report = try await command.execute(try command.loadTraces())
            let ways = try #require(report.lookAhead)
            #expect(ways.ringPackets + ways.directPackets == report.packets, "\(way) \(mode)")
            #expect(ways.ringPackets == (ring ? report.packets : 0), "\(way) \(mode)")
            #expect(ways.directPackets == (direct ? report.packets : 0), "\(way) \(mode)")
            #expect(report.table().contains("look-ahead"))
        }
    }

    /// `--look-ahead`: measured by default (from an L2's worth of connections), or one way always.
    @Test func lookAheadOptionSetsWhereThePrefetchesStart() throws {
        let auto = try RunCommand.parse(["x.pcap"]).table.settings().conntrack
        let ring = try RunCommand.parse(["x.pcap", "--look-ahead", "ring"]).table.settings().conntrack
        let direct = try RunCommand.parse(["x.pcap", "--look-ahead", "direct"]).table.settings().conntrack
        #expect(auto.prefetchFromConnections == ConntrackConfig.defaultPrefetchFromConnections)
        #expect(ring.prefetchFromConnections == 0)
        #expect(direct.prefetchFromConnections == Int.max)
    }

    @Test func jsonHasTheDocumentedKeysAndTypes() async throws {
        let command = try RunCommand.parse([Samples.trace("sample-mixed.pcap"), "--json"])
        let report = try await command.execute(try command.loadTraces())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try report.jsonText().utf8)) as? [String: Any])
        for key in ["packets", "bytes", "seconds", "pps", "gbps", "loops", "threads", "peak_rss_bytes", "trace_bytes",
                    "forwarded", "dropped", "parse_malformed"] {
            #expect(object[key] is NSNumber, "\(key)")
        }
        for key in ["parse", "states", "states_ovs", "connections", "invalid", "tcp_invalid", "expectations", "alg"] {
            #expect(object[key] is [String: Any], "\(key)")
        }
        #expect(object["skipped_input"] as? Bool == false)
        #expect((object["packets"] as? NSNumber)?.intValue == 3000)
        let connections = try #require(object["connections"] as? [String: Any])
        for key in ["committed", "live", "expired", "refused_by_limit", "max_connections", "bytes_per_slot"] {
            #expect(connections[key] is NSNumber, "connections.\(key)")
        }
        let expectations = try #require(object["expectations"] as? [String: Any])
        // 6 FTP and 4 TFTP data connections in the sample: each announced and matched once.
        #expect((expectations["created"] as? NSNumber)?.intValue == 10)
        #expect((expectations["matched"] as? NSNumber)?.intValue == 10)
        let states = try #require(object["states"] as? [String: NSNumber])
        #expect(states["+trk+new+rel"]?.intValue == 10)
        #expect(states.values.reduce(0) { $0 + $1.intValue } == 3000)
    }

    @Test func verdictsAndDumpsAreWritten() async throws {
        let verdicts = Samples.temporaryFile("verdicts.tsv")
        let dump = Samples.temporaryFile("conntrack.txt")
        let expectations = Samples.temporaryFile("expect.txt")
        defer {
            for path in [verdicts, dump, expectations] { try? FileManager.default.removeItem(atPath: path) }
        }
        let command = try RunCommand.parse([Samples.trace("ftp-active-v4.pcap"), "--verdicts", verdicts,
                                            "--dump-conntrack", dump, "--dump-expectations", expectations])
        let report = try await command.execute(try command.loadTraces())
        let lines = try String(contentsOfFile: verdicts, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == Int(report.packets))
        #expect(lines.first == "0\t+trk+new\t0\t0\t-\t-")
        #expect(lines.allSatisfy { $0.split(separator: "\t").count == 6 })
        let related = lines.filter { $0.split(separator: "\t")[1] == "+trk+new+rel" }
        #expect(related.count == 4)
        let table = try String(contentsOfFile: dump, encoding: .utf8).split(separator: "\n")
        #expect(table.count == report.connections.live)
        #expect(table == table.sorted())
        #expect(table.contains { $0.hasPrefix("tcp,orig=(") && $0.contains("helper=ftp") })
        #expect(table.filter { $0.contains(",master=") }.count == 4)
        #expect(try String(contentsOfFile: expectations, encoding: .utf8).isEmpty)  // all consumed
    }

    @Test func aTruncatedCaptureKeepsItsGoodPacketsAndSaysSo() async throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Samples.trace("tftp.pcap")))
        let cut = Samples.temporaryFile("cut.pcap")
        defer { try? FileManager.default.removeItem(atPath: cut) }
        try data.prefix(10_000).write(to: URL(fileURLWithPath: cut))
        let command = try RunCommand.parse([cut])
        let loaded = try command.loadTraces()
        #expect(loaded.skippedAnything)
        #expect(loaded.messages.count == 1)
        #expect(loaded.messages[0].contains(cut) && loaded.messages[0].contains("packet 38"))
        let report = try await command.execute(loaded)
        #expect(report.packets == 37)
        #expect(report.skippedInput)
    }

    @Test func missingAndNonCaptureFilesAreClearErrors() throws {
        let missing = try RunCommand.parse(["/nonexistent/x.pcap"])
        #expect("\(String(describing: #expect(throws: CTBenchError.self) { try missing.loadTraces() }!))".contains("/nonexistent/x.pcap"))
        let text = Samples.temporaryFile("text.pcap")
        defer { try? FileManager.default.removeItem(atPath: text) }
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: text))
        let notACapture = try RunCommand.parse([text])
        let error = #expect(throws: CTBenchError.self) { try notACapture.loadTraces() }
        #expect(error?.description.contains("not a pcap") == true)
    }
}
