import Foundation

/// `ctbench compare`'s judgement of a current result against a baseline, as a pure function of
/// the two parsed JSON objects (`ctbench run --json`) and a tolerance.
///
/// Performance figures have a direction and pass within the tolerance (relative to the
/// baseline). Correctness figures must be equal, whatever the tolerance, and are only compared
/// when both results replayed the same traces (`traces`) and the same number of packets.
struct ResultComparison {
    enum Direction: String {
        case higherIsBetter = "higher"
        case lowerIsBetter = "lower"
        case exact = "equal"
    }

    enum Verdict: String {
        case ok, better, worse, differs

        /// The word printed in the table (the failures shout).
        var word: String {
            switch self {
            case .ok: "ok"
            case .better: "better"
            case .worse: "WORSE"
            case .differs: "DIFFERS"
            }
        }
    }

    struct Row {
        var figure: String
        var direction: Direction
        var baseline: Double?
        var current: Double?
        var verdict: Verdict

        /// Relative change in percent; nil when a side is missing or the baseline is 0 (and the
        /// current is not).
        var changePercent: Double? {
            guard let baseline, let current else { return nil }
            if baseline == 0 { return current == 0 ? 0 : nil }
            return (current - baseline) / abs(baseline) * 100
        }
    }

    var rows: [Row] = []
    var notes: [String] = []
    var tolerance: Double
    var baselineTraces: [String]
    var currentTraces: [String]
    /// Correctness figures were compared (same traces and packet count).
    var correctnessCompared = false

    var sameTraces: Bool { baselineTraces == currentTraces }
    var worse: [String] { rows.filter { $0.verdict == .worse }.map(\.figure) }
    var differs: [String] { rows.filter { $0.verdict == .differs }.map(\.figure) }

    /// 0: nothing worse beyond the tolerance and nothing differs; 1: something did; 2: the
    /// results are of different traces, so the comparison cannot serve as a gate.
    var exitStatus: Int32 {
        if !sameTraces { return 2 }
        return worse.isEmpty && differs.isEmpty ? 0 : 1
    }

    /// The verdict in one line: the last line of the table.
    var summary: String {
        var failures: [String] = []
        if !worse.isEmpty { failures.append("\(worse.count) worse (\(worse.joined(separator: ", ")))") }
        if !differs.isEmpty { failures.append("\(differs.count) differ (\(differs.joined(separator: ", ")))") }
        if !sameTraces {
            return "UNUSABLE: different traces (\(baselineTraces.joined(separator: "+")) vs "
                + "\(currentTraces.joined(separator: "+"))): performance compared only"
                + (failures.isEmpty ? ", nothing worse" : ": " + failures.joined(separator: "; "))
        }
        if failures.isEmpty {
            return "OK: nothing worse than \(ResultComparison.percentText(tolerance))"
                + (correctnessCompared ? ", correctness figures equal" : " (performance only)")
        }
        return "FAIL: " + failures.joined(separator: "; ")
    }

    // MARK: The figures

    /// Higher is better.
    static let higherIsBetter = ["pps", "gbps"]
    /// Lower is better. `ns_per_packet` is derived: `seconds / packets`, in nanoseconds.
    static let lowerIsBetter = [
        "ns_per_packet", "peak_rss_bytes", "connections.bytes_per_slot", "cross_shard_messages.per_packet",
        "latency_ns.p50", "latency_ns.p99", "latency_ns.p999", "latency_ns.max",
        "batch_service_ns.p50", "batch_service_ns.p99", "batch_service_ns.max",
    ]
    /// Must be equal (after `states.*`).
    static let exactFigures = ["connections.committed", "expectations.created", "expectations.matched", "dropped"]

    /// Compares `current` with `baseline`, both already checked with `check(_:name:)`.
    static func compare(baseline: [String: Any], current: [String: Any], tolerance: Double) -> ResultComparison {
        var result = ResultComparison(tolerance: tolerance, baselineTraces: traces(baseline), currentTraces: traces(current))

        for figure in higherIsBetter + lowerIsBetter {
            let direction: Direction = higherIsBetter.contains(figure) ? .higherIsBetter : .lowerIsBetter
            let b = value(figure, in: baseline), c = value(figure, in: current)
            switch (b, c) {
            case let (b?, c?):
                result.rows.append(Row(figure: figure, direction: direction, baseline: b, current: c,
                                       verdict: judge(baseline: b, current: c, direction: direction, tolerance: tolerance)))
            case (nil, nil):
                continue
            default:
                result.notes.append("\(figure) is only in the \(b == nil ? "current" : "baseline") result: not compared")
            }
        }

        let packetsB = number(baseline["packets"]), packetsC = number(current["packets"])
        if !result.sameTraces {
            result.notes.append("the results are of different traces: performance compared only")
        } else if packetsB != packetsC {
            result.notes.append("packet counts differ (\(describe(packetsB)) vs \(describe(packetsC))): "
                                + "correctness figures not compared")
        } else {
            result.correctnessCompared = true
            // Counts per state, and per final action with a flow table (`--flows`).
            for group in ["states", "actions"] {
                let countsB = counts(baseline[group]), countsC = counts(current[group])
                if countsB == nil && countsC == nil { continue }
                for name in Set((countsB ?? [:]).keys).union((countsC ?? [:]).keys).sorted() {
                    result.rows.append(exactRow("\(group).\(name)", countsB?[name] ?? 0, countsC?[name] ?? 0))
                }
            }
            for figure in exactFigures {
                let b = value(figure, in: baseline), c = value(figure, in: current)
                if b == nil && c == nil { continue }
                result.rows.append(exactRow(figure, b, c))
            }
        }

        for (key, what) in [("threads", "threads"), ("batch", "batch"), ("mode", "mode"), ("loops", "loops"),
                            ("version", "ctbench version"), ("flows", "flow table")] {
            let b = baseline[key].map { "\($0)" } ?? "-", c = current[key].map { "\($0)" } ?? "-"
            if b != c { result.notes.append("\(what) differs: \(b) vs \(c)") }
        }
        // Shards (conntrack partitions): `--threads` times `--shards-per-thread` in sharded runs.
        let shardCount = { (object: [String: Any]) in ((object["shards"] as? [String: Any])?["packets"] as? [Any])?.count }
        if let b = shardCount(baseline), let c = shardCount(current), b != c {
            result.notes.append("shards differ: \(b) vs \(c)")
        }
        for (name, object) in [("baseline", baseline), ("current", current)] where object["skipped_input"] as? Bool == true {
            result.notes.append("the \(name) result skipped part of its input")
        }
        return result
    }

    static func judge(baseline b: Double, current c: Double, direction: Direction, tolerance: Double) -> Verdict {
        // Signed improvement relative to the baseline: positive is better.
        let gain = direction == .higherIsBetter ? c - b : b - c
        let allowed = abs(b) * tolerance
        if gain < -allowed { return .worse }
        if gain > allowed { return .better }
        return .ok
    }

    private static func exactRow(_ figure: String, _ b: Double?, _ c: Double?) -> Row {
        Row(figure: figure, direction: .exact, baseline: b, current: c, verdict: b == c && b != nil ? .ok : .differs)
    }

    // MARK: Reading the JSON objects

    /// Checks that `object` is a ctbench run result (`packets`, `seconds`, `pps`, `traces`).
    static func check(_ object: [String: Any], name: String) throws(CompareError) {
        let missing = ["packets", "seconds", "pps"].filter { number(object[$0]) == nil }
            + (object["traces"] is [String] ? [] : ["traces"])
        if !missing.isEmpty {
            throw .unusable("\(name): not a ctbench run result (no \(missing.joined(separator: ", ")))")
        }
    }

    /// Two results of which one times the parser alone and the other the whole tracker.
    static func checkComparable(_ baseline: [String: Any], _ current: [String: Any]) throws(CompareError) {
        let b = baseline["mode"] as? String, c = current["mode"] as? String
        if (b == "parse-only") != (c == "parse-only") {
            throw .unusable("cannot compare a --parse-only result with a full run (mode \(b ?? "-") vs \(c ?? "-"))")
        }
    }

    /// The figure under a dotted path (`connections.bytes_per_slot`), or the derived `ns_per_packet`.
    static func value(_ figure: String, in object: [String: Any]) -> Double? {
        if figure == "ns_per_packet" {
            guard let seconds = number(object["seconds"]), let packets = number(object["packets"]), packets > 0 else {
                return nil
            }
            return seconds / packets * 1e9
        }
        var node: Any? = object
        for part in figure.split(separator: ".") { node = (node as? [String: Any])?[String(part)] }
        return number(node)
    }

    static func number(_ any: Any?) -> Double? {
        guard let n = any as? NSNumber else { return nil }
        let d = n.doubleValue
        return d.isFinite ? d : nil
    }

    private static func counts(_ any: Any?) -> [String: Double]? {
        guard let object = any as? [String: Any] else { return nil }
        return object.compactMapValues { number($0) }
    }

    private static func traces(_ object: [String: Any]) -> [String] {
        // Compare by file name: a baseline made in another checkout names the same trace.
        (object["traces"] as? [String] ?? []).map { URL(fileURLWithPath: $0).lastPathComponent }
    }

    private static func describe(_ value: Double?) -> String { value.map(formatNumber) ?? "-" }

    // MARK: Tolerance

    /// `10%` or `0.1` (a fraction of at most 1; a bare `10` is refused as ambiguous).
    static func parseTolerance(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") {
            guard let percent = Double(trimmed.dropLast().trimmingCharacters(in: .whitespaces)),
                  percent.isFinite, percent >= 0 else { return nil }
            return percent / 100
        }
        guard let fraction = Double(trimmed), fraction.isFinite, (0...1).contains(fraction) else { return nil }
        return fraction
    }

    static func percentText(_ fraction: Double) -> String {
        let percent = fraction * 100
        return (percent == percent.rounded() ? String(Int(percent)) : String(format: "%g", percent)) + "%"
    }

    // MARK: Output

    /// The terminal table: figure, baseline, current, change, verdict; notes; the summary line last.
    func table(baselineName: String, currentName: String) -> String {
        var lines = ["ctbench compare: \(baselineName) -> \(currentName), tolerance \(ResultComparison.percentText(tolerance))"]
        let header = ["figure", "baseline", "current", "change", "verdict"]
        let cells = rows.map { row in
            [row.figure, row.baseline.map(ResultComparison.formatNumber) ?? "-",
             row.current.map(ResultComparison.formatNumber) ?? "-", changeText(row), row.verdict.word]
        }
        let widths = (0..<header.count).map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        for line in [header] + cells {
            var text = line[0].padding(toLength: widths[0], withPad: " ", startingAt: 0)
            for column in 1...3 { text += "  " + String(repeating: " ", count: widths[column] - line[column].count) + line[column] }
            lines.append(text + "  " + line[4])
        }
        lines += notes.map { "note: \($0)" }
        lines.append(summary)
        return lines.joined(separator: "\n")
    }

    private func changeText(_ row: Row) -> String {
        guard row.baseline != nil, row.current != nil else { return "-" }
        guard let change = row.changePercent else { return "new" }
        return String(format: "%+.1f%%", change)
    }

    /// The comparison as one JSON object (sorted keys).
    func jsonText(baselineName: String, currentName: String) throws -> String {
        let figures: [[String: Any]] = rows.map { row in
            [
                "figure": row.figure, "direction": row.direction.rawValue, "verdict": row.verdict.rawValue,
                "baseline": row.baseline ?? NSNull(), "current": row.current ?? NSNull(),
                "change_percent": row.changePercent ?? NSNull(),
            ]
        }
        let object: [String: Any] = [
            "baseline": baselineName, "current": currentName, "tolerance": tolerance,
            "same_traces": sameTraces, "correctness_compared": correctnessCompared,
            "figures": figures, "notes": notes, "worse": worse, "differs": differs,
            "exit_status": Int(exitStatus), "summary": summary,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Integers with thousands separators; other values with four significant digits below 1,000.
    static func formatNumber(_ value: Double) -> String {
        if abs(value) < 1e15 && (abs(value) >= 1000 || value == value.rounded()) {
            return groupDigits(Int64(value.rounded()))
        }
        return String(format: "%.4g", value)
    }

    static func groupDigits(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = n < 0 ? "-" : ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return out
    }
}

/// Input `ctbench compare` cannot use: exit status 2.
enum CompareError: Error, CustomStringConvertible, Equatable {
    case unusable(String)

    var description: String {
        switch self {
        case .unusable(let message): message
        }
    }
}
