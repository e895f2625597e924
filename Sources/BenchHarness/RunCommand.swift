import ApplicationGateways
import ArgumentParser
import Conntrack
import Datapath
import FlowTable
import Foundation
import PacketParsing
import TraceIO

/// `ctbench [run] TRACE...`: preloads the traces, replays them through the datapath, and reports
/// throughput, ct_state counts, table and ALG figures.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replay traces through conntrack (default pipeline or --flows) and report the figures.")

    @Argument(help: "pcap or pcapng files, replayed one after the other as one trace.")
    var traces: [String]

    @OptionGroup var replay: ReplayOptions

    var loop: Int { replay.loop }
    var warmup: Int { replay.warmup }
    var threads: Int { replay.threads }
    var batch: Int { replay.batch }
    var noPin: Bool { replay.noPin }
    var singlePartition: Bool { replay.singlePartition }

    @Flag(name: .customLong("parse-only"), help: "Time the packet parser alone.")
    var parseOnly = false

    @Flag(name: .customLong("no-latency"), help: "Do not measure latency (no clock reads in the loop).")
    var noLatency = false

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @OptionGroup var table: TableOptions

    @OptionGroup var flowOptions: FlowOptions

    @Option(name: .customLong("dump-conntrack"), help: "Write the connection table (dpctl/dump-conntrack format) here at the end.")
    var dumpConntrack: String?

    @Option(name: .customLong("dump-expectations"), help: "Write the live expectations here at the end.")
    var dumpExpectations: String?

    @Option(help: "Write one verdict line per packet here (index, ct_state, zone, conn, master, action).")
    var verdicts: String?

    @Option(help: "Also write the JSON result into this directory, named after the trace, options and time.")
    var output: String?

    func run() async throws { try await execute() }

    /// Loads, runs, prints. (Named apart from `run` so that callers reach it without the
    /// synchronous `ParsableCommand.run` being picked.)
    func execute() async throws {
        let loaded = try loadTraces()
        for message in loaded.messages { FileHandle.standardError.write(Data((message + "\n").utf8)) }
        if parseOnly {
            try reportParseOnly(TraceReplay(trace: loaded.trace), loaded)
        } else {
            let report = try await execute(loaded)
            print(json ? try report.jsonText() : report.table())
            if !report.peakRSSWithinPrediction { FileHandle.standardError.write(Data((report.memoryWarning + "\n").utf8)) }
            if let output { try writeResult(report, into: output) }
        }
        if loaded.skippedAnything { throw ExitCode(3) }
    }

    func loadTraces() throws -> LoadedTraces {
        do {
            return try LoadedTraces.load(traces)
        } catch let error as TraceError {
            throw CTBenchError.input(error.description)
        }
    }

    /// Replays the loaded traces as the options say, writes the requested files, and returns
    /// the figures. With `--passes N`, N timed passes, each on a fresh table: the figures are
    /// the median pass's (by time; verdicts and counters are the same in every pass), the files
    /// the first pass's (only it collects them).
    func execute(_ loaded: LoadedTraces) async throws -> RunReport {
        let settings = try table.settings()
        let policy = try flowOptions.policy()
        var passes: [Outcome] = []
        for pass in 0..<replay.passes {
            let collects = pass == 0
            if singlePartition, let policy {
                passes.append(replayAlone(loaded.trace, collects: collects) {
                    FlowPipeline(policy: policy, core: settings.makePipeline())
                })
            } else if singlePartition {
                passes.append(replayAlone(loaded.trace, collects: collects) { settings.makePipeline() })
            } else {
                passes.append(await replaySharded(loaded, settings: settings, policy: policy, collects: collects))
            }
        }
        let first = passes[0]
        if let verdicts { try write(first.verdictLines, to: verdicts) }
        if let dumpConntrack { try write(first.connections, to: dumpConntrack) }
        if let dumpExpectations { try write(first.expectations, to: dumpExpectations) }
        let outcome = passes.sorted { $0.seconds < $1.seconds }[passes.count / 2]
        var report = RunReport(summary: outcome.summary, loaded: loaded, loops: loop,
                               threads: singlePartition ? 1 : threads, shards: singlePartition ? 1 : replay.shardCount,
                               batch: singlePartition ? nil : batch,
                               seconds: outcome.seconds, settings: settings, collectsVerdicts: verdicts != nil,
                               receiveBuffers: !replay.sharedFrames)
        if policy != nil {
            report.flows = flowOptions.flows
            report.actions = outcome.summary.actions.byName
        }
        if passes.count > 1 { report.passesPPS = passes.map { Double(report.packets) / $0.seconds } }
        return report
    }

    /// `DIR/<trace>-t<threads>-b<batch>-<UTC time>.json`, e.g.
    /// `anchor-t2-b128-20261129T061500Z.json`.
    func writeResult(_ report: RunReport, into directory: String) throws {
        let trace = traces.map { ($0 as NSString).lastPathComponent.replacingOccurrences(of: ".pcapng", with: "")
            .replacingOccurrences(of: ".pcap", with: "") }.joined(separator: "+")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let options = singlePartition ? "single"
            : "t\(threads)-b\(batch)" + (replay.shardCount > threads ? "-s\(replay.shardCount)" : "")
        let name = "\(trace)-\(options)\(noALG ? "-noalg" : "")-\(formatter.string(from: Date())).json"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CTBenchError.output("cannot create \(directory): \(error.localizedDescription)")
        }
        try write([try report.jsonText()], to: (directory as NSString).appendingPathComponent(name))
    }

    var noALG: Bool { table.noALG }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    private func reportParseOnly(_ replay: TraceReplay, _ loaded: LoadedTraces) throws {
        for _ in 0..<warmup { _ = replay.parseAll() }
        let clock = ContinuousClock()
        var outcomes = [UInt64](repeating: 0, count: ParseOutcome.allCases.count)
        let start = clock.now
        for _ in 0..<loop {
            let counts = replay.parseAll()
            for i in counts.indices { outcomes[i] += counts[i] }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let packets = UInt64(loaded.trace.count * loop)
        let named = RunReport.named(outcomes, ParseOutcome.allCases, \.name)
        if json {
            let object: [String: Any] = [
                "mode": "parse-only", "packets": packets, "seconds": seconds,
                "pps": Double(packets) / seconds, "parse": named, "traces": traces,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("parse-only: \(packets) packets in \(String(format: "%.4f", seconds)) s = "
                  + "\(String(format: "%.2f", Double(packets) / seconds / 1e6)) Mpps")
            for (name, count) in named.sorted(by: { $0.key < $1.key }) { print("  \(name): \(count)") }
        }
    }

    private func write(_ lines: [String], to path: String) throws {
        let text = lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw CTBenchError.output("cannot write \(path): \(error.localizedDescription)")
        }
    }
}

/// Errors a user can act on, printed without a stack of noise.
enum CTBenchError: Error, CustomStringConvertible {
    case input(String)
    case output(String)
    case option(String)

    var description: String {
        switch self {
        case .input(let m), .output(let m), .option(let m): m
        }
    }
}
