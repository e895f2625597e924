import ArgumentParser
import Foundation

/// `ctbench sweep --max-conns 65536,262144 TRACE...`: replays the traces once per table size,
/// through `RunCommand.execute` (the same code path as `ctbench run --max-conns N`), and names
/// the smallest size that refused no connection.
///
/// With `--threads N` each shard holds ceil(size / N) connections, as in `run`; connections are
/// spread over the shards by hash, not evenly, so the busiest shard fills first and the size
/// that suffices can exceed the trace's connection count. The recommendation is what was
/// measured: the smallest size whose run refused nothing, with this shard count.
struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Replay traces once per table size and name the smallest that refuses no connection.",
        discussion: """
            Sizes run smallest first, all in this process: peak RSS is the process's high-water mark \
            so far, and 'RSS +' is how much each run raised it. With --threads N (N > 1), each of the \
            N x --shards-per-thread shards holds ceil(size / shards) connections (as in `run`), so the \
            recommended size accounts for uneven shards.
            """)

    @Argument(help: "pcap or pcapng files, replayed one after the other as one trace.")
    var traces: [String]

    @Option(name: .customLong("max-conns"), help: "Table sizes, comma-separated (repeatable), e.g. 65536,262144,1048576.")
    var maxConns: [String]

    @OptionGroup var replay: ReplayOptions

    var loop: Int { replay.loop }
    var warmup: Int { replay.warmup }
    var threads: Int { replay.threads }
    var batch: Int { replay.batch }
    var singlePartition: Bool { replay.singlePartition }

    @Flag(name: .customLong("no-alg"), help: "Commit without the FTP/TFTP helpers.")
    var noALG = false

    @Option(name: .customLong("timeout"), help: "Timeout in seconds by OVS policy name, e.g. tcp_established=3600 (repeatable).")
    var timeouts: [String] = []

    @Flag(name: .customLong("lazy-tables"), help: "Fault connection entries in as they are first used (see run --help).")
    var lazyTables = false

    @Flag(help: "Print one JSON object: the runs, and recommended_max_conns.")
    var json = false

    func validate() throws {
        _ = try sizes()
    }

    /// The sizes asked for, smallest first, each once.
    func sizes() throws -> [Int] { try SweepCommand.parseSizes(maxConns) }

    static func parseSizes(_ items: [String]) throws -> [Int] {
        var sizes: Set<Int> = []
        for item in items {
            for part in item.split(separator: ",", omittingEmptySubsequences: false) {
                let text = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
                guard let size = Int(text), size > 0 else {
                    throw ValidationError("--max-conns: '\(part)' is not a positive whole number (expected e.g. 65536,262144)")
                }
                sizes.insert(size)
            }
        }
        if sizes.isEmpty { throw ValidationError("--max-conns: give at least one size") }
        return sizes.sorted()
    }

    /// The `run` command for one size: the same options, parsed by `RunCommand` itself.
    func runCommand(maxConns size: Int) throws -> RunCommand {
        var arguments = ["--max-conns", String(size), "--loop", String(loop), "--warmup", String(warmup),
                         "--passes", String(replay.passes),
                         "--threads", String(threads), "--batch", String(batch),
                         "--shards-per-thread", String(replay.shardsPerThread)]
        if singlePartition { arguments.append("--single-partition") }
        if noALG { arguments.append("--no-alg") }
        for timeout in timeouts { arguments += ["--timeout", timeout] }
        if lazyTables { arguments.append("--lazy-tables") }
        return try RunCommand.parse(arguments + ["--"] + traces)
    }

    func run() async throws { try await execute() }

    func execute() async throws {
        let loaded = try RunCommand.parse(["--"] + traces).loadTraces()
        for message in loaded.messages { FileHandle.standardError.write(Data((message + "\n").utf8)) }
        let result = try await sweep(loaded)
        print(json ? try result.jsonText() : result.table())
        if loaded.skippedAnything { throw ExitCode(3) }
    }

    /// Runs every size on the loaded traces.
    func sweep(_ loaded: LoadedTraces) async throws -> SweepResult {
        let shards = singlePartition ? 1 : replay.shardCount
        var rows: [SweepResult.Row] = []
        for size in try sizes() {
            let before = ResourceUsage.peakRSSBytes
            let report = try await runCommand(maxConns: size).execute(loaded)
            rows.append(SweepResult.Row(maxConns: size, perShard: (size + shards - 1) / shards, report: report,
                                        rssAddedBytes: report.peakRSSBytes - min(before, report.peakRSSBytes)))
        }
        return SweepResult(rows: rows, threads: shards, loops: loop)
    }
}

/// The runs of one sweep, smallest size first.
struct SweepResult {
    struct Row {
        /// The size asked for (`--max-conns`).
        var maxConns: Int
        /// What each shard holds: ceil(maxConns / threads).
        var perShard: Int
        var report: RunReport
        /// How much this run raised the process's peak RSS.
        var rssAddedBytes: UInt64

        var refused: UInt64 { report.connections.refusedByLimit }
    }

    var rows: [Row]
    var threads: Int
    var loops: Int

    /// The smallest size whose run refused no connection.
    var recommended: Row? { rows.first { $0.refused == 0 } }

    static let rssNote = "peak RSS is the process's high-water mark (every size runs in this one process, "
        + "smallest first); RSS + is how much each run raised it"

    func table() -> String {
        guard let first = rows.first?.report else { return "" }
        let g = { (n: Int) in ResultComparison.groupDigits(Int64(n)) }
        let mb = { (bytes: UInt64) in String(format: "%.1f MB", Double(bytes) / 1e6) }
        var lines = ["ctbench sweep: \(first.traces.joined(separator: ", ")): \(g(Int(first.packets / UInt64(max(loops, 1))))) packets"
                     + " x \(loops) loop\(loops == 1 ? "" : "s"), \(threads) shard\(threads == 1 ? "" : "s")"
                     + (threads > 1 ? " (each holds ceil(max-conns / \(threads)))" : "")]
        let header = ["max-conns", "per shard", "Mpps", "peak RSS", "RSS +", "B/slot", "live at end", "refused", "refuses"]
        let cells = rows.map { row in
            [g(row.maxConns), g(row.perShard), String(format: "%.3f", row.report.pps / 1e6), mb(row.report.peakRSSBytes),
             mb(row.rssAddedBytes), String(format: "%.1f", row.report.connections.bytesPerSlot), g(row.report.connections.live),
             ResultComparison.groupDigits(Int64(row.refused)), row.refused > 0 ? "yes" : "no"]
        }
        let widths = header.indices.map { c in ([header] + cells).map { $0[c].count }.max() ?? 0 }
        for line in [header] + cells {
            lines.append(line.indices.map { c in
                c == line.count - 1 ? line[c] : String(repeating: " ", count: widths[c] - line[c].count) + line[c]
            }.joined(separator: "  "))
        }
        lines.append("note: " + SweepResult.rssNote)
        lines.append(recommendationLine)
        return lines.joined(separator: "\n")
    }

    var recommendationLine: String {
        let g = { (n: Int) in ResultComparison.groupDigits(Int64(n)) }
        guard let row = recommended else {
            guard let largest = rows.last else { return "no sizes were run" }
            return "none of the sizes was enough: the largest, \(g(largest.maxConns)), refused "
                + "\(ResultComparison.groupDigits(Int64(largest.refused))) connection\(largest.refused == 1 ? "" : "s")"
        }
        let live = row.report.connections.live
        var detail = "\(g(live)) live at the end"
        if threads > 1 {
            let busiest = row.report.shards.liveConnections.max() ?? 0
            detail += "; \(threads) shards of \(g(row.perShard)), the busiest holding \(g(busiest))"
        }
        return "smallest table that refuses nothing: \(g(row.maxConns)) (\(detail))"
    }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(JSON(self)), as: UTF8.self)
    }

    /// `runs`: one `ctbench run --json` object per size; `recommended_max_conns`: null when none.
    private struct JSON: Encodable {
        var result: SweepResult
        init(_ result: SweepResult) { self.result = result }

        enum CodingKeys: String, CodingKey {
            case runs, maxConns = "max_conns", perShardMaxConns = "per_shard_max_conns", rssAddedBytes = "rss_added_bytes"
            case recommendedMaxConns = "recommended_max_conns", threads, note
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(result.rows.map(\.report), forKey: .runs)
            try c.encode(result.rows.map(\.maxConns), forKey: .maxConns)
            try c.encode(result.rows.map(\.perShard), forKey: .perShardMaxConns)
            try c.encode(result.rows.map(\.rssAddedBytes), forKey: .rssAddedBytes)
            try c.encode(result.recommended?.maxConns, forKey: .recommendedMaxConns)
            try c.encode(result.threads, forKey: .threads)
            try c.encode(SweepResult.rssNote, forKey: .note)
        }
    }
}
