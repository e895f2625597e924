import Conntrack
import Datapath
import Foundation
import PacketParsing
import Testing
import TraceIO
import TestSupport

/// The shared captures folder (../shared/traces next to the package root; see TestSupport).
func sharedTracesDirectory() throws -> URL { try TestPaths.sharedTraces() }

/// One row of Fixtures/tshark-conversations.tsv.
struct ConversationRow: Sendable {
    var file: String
    var tsharkTCP: UInt64
    var tsharkUDP: UInt64
    var expectedTCP: UInt64
    var expectedUDP: UInt64
    var why: String

    static func load() throws -> [ConversationRow] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tshark-conversations.tsv")
        let text = try String(contentsOf: url, encoding: .utf8)
        var rows: [ConversationRow] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") || line.hasPrefix("file\t") { continue }
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 6, let a = UInt64(f[1]), let b = UInt64(f[2]), let c = UInt64(f[3]), let d = UInt64(f[4])
            else {
                Issue.record("malformed fixture line: \(line)")
                continue
            }
            rows.append(ConversationRow(file: f[0], tsharkTCP: a, tsharkUDP: b, expectedTCP: c, expectedUDP: d, why: f[5]))
        }
        return rows
    }
}

/// Cross-check of the committed connections against tshark's conversation tables, per capture
/// listed in ../shared/traces/MANIFEST.tsv. tshark is not needed here: its counts are in the
/// fixture (with the command that produced them); where ctbench commits a different number, the
/// fixture's `expected_ours_*` columns hold ours and `why` explains the gap.
@Suite struct TsharkConversationTests {
    /// Long enough that nothing expires inside any capture: 20 years for every class (many-protocols.pcap spans 4.5 years).
    static let longTimeouts = TimeoutPolicy(seconds: Dictionary(
        uniqueKeysWithValues: TimeoutClass.allCases.map { ($0, UInt64(20 * 365 * 86_400)) }))

    static func replay(_ path: String) throws -> DefaultPipeline {
        let loaded = try TraceLoader.load(path: path)
        #expect(loaded.isComplete, "\(path): \(String(describing: loaded.error))")
        let pipeline = DefaultPipeline(config: ConntrackConfig(maxConnections: 1 << 16, timeouts: longTimeouts))
        TraceReplay(trace: loaded.trace).run(loop: 0, through: pipeline)
        return pipeline
    }

    @Test func fixtureCoversEveryCaptureOfTheManifest() throws {
        let dir = try sharedTracesDirectory()
        let manifest = try String(contentsOf: dir.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8)
        let files = manifest.split(separator: "\n").dropFirst().compactMap { $0.split(separator: "\t").first.map(String.init) }
        let rows = try ConversationRow.load()
        #expect(!files.isEmpty)
        #expect(rows.map(\.file).sorted() == files.sorted())
        // Every difference from tshark is explained, and only differences say DIFFERS.
        for row in rows {
            let differs = row.expectedTCP != row.tsharkTCP || row.expectedUDP != row.tsharkUDP
            #expect(row.why.hasPrefix("DIFFERS: ") == differs,
                    "\(row.file): `why` must start with \"DIFFERS: \" exactly when ours differs from tshark")
            if differs { #expect(row.why.count > 40, "\(row.file): the difference needs a real explanation") }
        }
    }

    @Test func committedConnectionsMatchTsharkConversationsAsExplained() throws {
        let dir = try sharedTracesDirectory()
        let rows = try ConversationRow.load()
        #expect(rows.count >= 20)
        for row in rows {
            let path = dir.appendingPathComponent(row.file).path
            let pipeline = try Self.replay(path)
            let stats = pipeline.partition.stats
            let tcp = stats.committedByProtocol[Int(IPProtocol.tcp)]
            let udp = stats.committedByProtocol[Int(IPProtocol.udp)]
            #expect(tcp == row.expectedTCP, "\(row.file): TCP connections committed \(tcp), fixture expects \(row.expectedTCP) (tshark \(row.tsharkTCP); \(row.why))")
            #expect(udp == row.expectedUDP, "\(row.file): UDP connections committed \(udp), fixture expects \(row.expectedUDP) (tshark \(row.tsharkUDP); \(row.why))")
            // With these timeouts nothing expires: a second connection on one tuple can only
            // come from a reopen, which the `why` column must then mention.
            #expect(stats.expired == 0, "\(row.file)")
            #expect(stats.refusedByLimit == 0, "\(row.file)")
            if stats.replaced > 0 {
                #expect(row.why.contains("reopen"), "\(row.file): \(stats.replaced) reopen(s) not explained")
            }
        }
    }
}
