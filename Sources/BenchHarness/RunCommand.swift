import ApplicationGateways
import ArgumentParser
import Conntrack
import Datapath
import Foundation
import PacketParsing
import TraceIO

/// `ctbench [run] TRACE...`: preloads the traces, replays them through the datapath, and reports
/// throughput, ct_state counts, table and ALG figures.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replay traces through conntrack (default pipeline) and report the figures.")

    @Argument(help: "pcap or pcapng files, replayed one after the other as one trace.")
    var traces: [String]

    @Option(help: "Timed repetitions of the trace (trace time stays monotonic).")
    var loop = 1

    @Option(help: "Untimed repetitions first, on a throwaway table.")
    var warmup = 0

    @Flag(name: .customLong("parse-only"), help: "Time the packet parser alone.")
    var parseOnly = false

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @OptionGroup var table: TableOptions

    @Option(name: .customLong("dump-conntrack"), help: "Write the connection table (dpctl/dump-conntrack format) here at the end.")
    var dumpConntrack: String?

    @Option(name: .customLong("dump-expectations"), help: "Write the live expectations here at the end.")
    var dumpExpectations: String?

    @Option(help: "Write one verdict line per packet here (index, ct_state, zone, conn, master, action).")
    var verdicts: String?

    func validate() throws {
        if loop < 1 { throw ValidationError("--loop must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative") }
    }

    func run() throws {
        let loaded = try loadTraces()
        for message in loaded.messages { FileHandle.standardError.write(Data((message + "\n").utf8)) }
        if parseOnly {
            try reportParseOnly(TraceReplay(trace: loaded.trace), loaded)
        } else {
            let report = try execute(loaded)
            print(json ? try report.jsonText() : report.table())
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
    /// the figures.
    func execute(_ loaded: LoadedTraces) throws -> RunReport {
        let replay = TraceReplay(trace: loaded.trace)
        let settings = try table.settings()
        for w in 0..<warmup {
            replay.run(loop: w, through: settings.makePipeline())
        }
        let pipeline = settings.makePipeline()
        var verdictLines: [String] = []
        let clock = ContinuousClock()
        let start = clock.now
        for l in 0..<loop {
            if verdicts != nil {
                replay.run(loop: l, through: pipeline) { index, verdict in verdictLines.append(verdict.line(index: index)) }
            } else {
                replay.run(loop: l, through: pipeline)
            }
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18

        if let verdicts { try write(verdictLines, to: verdicts) }
        if let dumpConntrack { try write(pipeline.partition.dumpConnections(), to: dumpConntrack) }
        if let dumpExpectations { try write(pipeline.partition.expectations.dump(), to: dumpExpectations) }
        return RunReport(pipeline: pipeline, loaded: loaded, loops: loop, seconds: seconds, settings: settings)
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
