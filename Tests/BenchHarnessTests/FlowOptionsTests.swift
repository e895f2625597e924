import ArgumentParser
import Foundation
import Testing
@testable import BenchHarness

/// `ctbench run --flows FILE --in-port MAP`: the action column, the JSON `actions` counts, the
/// same answers alone and sharded, and clear errors for bad maps and flow files.
@Suite struct FlowOptionsTests {
    static func flowFile(_ name: String) -> String {
        Samples.packageRoot.appendingPathComponent("flows").appendingPathComponent(name).path
    }

    func run(_ arguments: [String]) async throws -> (RunReport, [Substring]) {
        let verdicts = Samples.temporaryFile("flow-verdicts-\(UUID().uuidString).tsv")
        defer { try? FileManager.default.removeItem(atPath: verdicts) }
        let command = try RunCommand.parse(arguments + ["--verdicts", verdicts])
        let report = try await command.execute(try command.loadTraces())
        return (report, try String(contentsOfFile: verdicts, encoding: .utf8).split(separator: "\n"))
    }

    @Test func theActionColumnAndCountsAreTheSameAloneAndSharded() async throws {
        let common = [Samples.trace("ftp-active-v4.pcap"), "--flows", Self.flowFile("seed-flows2.flows"),
                      "--in-port", "1=10.0.0.0/8,2=172.16.0.0/24"]
        let (alone, aloneLines) = try await run(common + ["--single-partition"])
        let (sharded, shardedLines) = try await run(common + ["--threads", "4", "--batch", "3"])
        #expect(aloneLines == shardedLines)
        #expect(aloneLines.allSatisfy { $0.split(separator: "\t").count == 6 })
        #expect(aloneLines.first?.hasSuffix("\t+trk+new\t0\t0\t-\toutput:2") == true)
        let actions = try #require(alone.actions)
        #expect(actions == sharded.actions)
        #expect(actions.values.reduce(0, +) == alone.packets)
        #expect(actions["output:1"] ?? 0 > 0 && actions["output:2"] ?? 0 > 0)
        #expect(alone.flows == Self.flowFile("seed-flows2.flows"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try alone.jsonText().utf8)) as? [String: Any])
        #expect((object["actions"] as? [String: NSNumber])?["output:2"]?.uint64Value == actions["output:2"])
        #expect(alone.table().contains("actions       output:"))
    }

    @Test func withoutFlowsThereIsNoActionKey() async throws {
        let (report, lines) = try await run([Samples.trace("tftp.pcap")])
        #expect(report.actions == nil && report.flows == nil)
        #expect(lines.allSatisfy { $0.hasSuffix("\t-") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try report.jsonText().utf8)) as? [String: Any])
        #expect(object["actions"] == nil)
    }

    @Test(arguments: [
        (["--in-port", "1=10.0.0.1"], "--in-port needs --flows"),
        (["--flows", "f", "--in-port", "1=10.0.0.300"], "--in-port '1=10.0.0.300': column 3"),
        (["--flows", "f", "--in-port", "one=10.0.0.1"], "not a number"),
    ])
    func badInPortMapsAreRefused(arguments: [String], message: String) {
        let error = #expect(throws: (any Error).self) { _ = try RunCommand.parse(["x.pcap"] + arguments) }
        let text = RunCommand.message(for: error!)
        #expect(text.contains(message), "\(text)")
    }

    @Test func badFlowFilesNameTheLineAndMissingOnesTheFile() throws {
        let file = Samples.temporaryFile("bad.flows")
        try "priority=1,actions=drop\nin_port=1,tcp,actions=ct(alg=ssh),2\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let bad = try RunCommand.parse(["x.pcap", "--flows", file])
        let error = #expect(throws: ValidationError.self) { _ = try bad.flowOptions.policy() }
        #expect(error?.message.contains("line 2, column") == true, "\(String(describing: error))")
        let missing = try RunCommand.parse(["x.pcap", "--flows", "/nonexistent/p.flows"])
        let input = #expect(throws: CTBenchError.self) { _ = try missing.flowOptions.policy() }
        #expect(input?.description.contains("/nonexistent/p.flows") == true)
    }
}
