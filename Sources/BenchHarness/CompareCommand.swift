import ArgumentParser
import Foundation

/// `ctbench compare BASELINE.json CURRENT.json`: a regression gate over two `ctbench run --json`
/// results. Exit status 0: nothing worse beyond the tolerance and nothing differs; 1: something
/// did (named on the last line); 2: unusable input (missing file, not JSON, not a ctbench result,
/// results of different traces: then only performance is compared, and said so).
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two `ctbench run --json` results: a CI regression gate.",
        discussion: """
            Higher is better: pps, gbps. Lower is better: seconds per packet, peak_rss_bytes, \
            connections.bytes_per_slot, cross_shard_messages.per_packet, latency_ns.*, batch_service_ns.* \
            (when both results have them). Must be equal, whatever the tolerance, when both results \
            replayed the same traces and packet count: states (each ct_state count), \
            connections.committed, expectations.created and .matched, dropped. A file of several \
            lines is read from its last JSON line. Exit status: 0 ok, 1 worse or different, 2 unusable input.
            """)

    @Argument(help: "The reference result (JSON from `ctbench run --json`).")
    var baseline: String

    @Argument(help: "The result to judge.")
    var current: String

    @Option(help: "How much worse a performance figure may get: 10% or 0.1.")
    var tolerance = "10%"

    @Flag(help: "Print the comparison as one JSON object.")
    var json = false

    func validate() throws {
        if ResultComparison.parseTolerance(tolerance) == nil {
            throw ValidationError("--tolerance must be a percentage (10%) or a fraction from 0 to 1 (0.1), got '\(tolerance)'")
        }
    }

    func run() throws {
        let outcome = evaluate()
        if !outcome.output.isEmpty { print(outcome.output) }
        if !outcome.errorOutput.isEmpty { FileHandle.standardError.write(Data((outcome.errorOutput + "\n").utf8)) }
        if outcome.status != 0 { throw ExitCode(outcome.status) }
    }

    struct Outcome {
        var status: Int32
        /// What goes to standard output: the table, or the JSON object.
        var output: String
        /// What goes to standard error: why the input is unusable.
        var errorOutput = ""
        var comparison: ResultComparison?
    }

    /// Reads both files and compares them: everything `run` does but the printing.
    func evaluate() -> Outcome {
        let tolerance = ResultComparison.parseTolerance(self.tolerance) ?? 0.1
        do {
            let b = try CompareCommand.loadResult(baseline), c = try CompareCommand.loadResult(current)
            try ResultComparison.checkComparable(b, c)
            let comparison = ResultComparison.compare(baseline: b, current: c, tolerance: tolerance)
            let output = json ? try comparison.jsonText(baselineName: baseline, currentName: current)
                : comparison.table(baselineName: baseline, currentName: current)
            return Outcome(status: comparison.exitStatus, output: output, comparison: comparison)
        } catch let error as CompareError {
            return Outcome(status: 2, output: "", errorOutput: "ctbench compare: \(error.description)")
        } catch {
            return Outcome(status: 2, output: "", errorOutput: "ctbench compare: \(error)")
        }
    }

    /// The JSON object in `path`: the whole file, or else its last line that is a JSON object.
    static func loadResult(_ path: String) throws(CompareError) -> [String: Any] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw .unusable("\(path): no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unusable("\(path): cannot read it") }
        var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        if object == nil {
            let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            for line in lines.reversed() {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("{") else { continue }
                if let found = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] {
                    object = found
                    break
                }
            }
        }
        guard let object else { throw .unusable("\(path): no JSON object in it (expected `ctbench run --json` output)") }
        try ResultComparison.check(object, name: path)
        return object
    }
}
