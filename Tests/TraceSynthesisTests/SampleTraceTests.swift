import Foundation
import Testing
import TraceIO
@testable import TraceSynthesis

/// The committed sample traces in traces/, with the configuration `ctbench gen` builds from the
/// command in traces/README.md.
let sampleTraces: [(file: String, config: GeneratorConfig)] = {
    func ftp(_ modes: [FTPMode]) -> GeneratorConfig {
        var c = GeneratorConfig(preset: .ftp)
        c.ftpModes = modes
        c.ftpSessionsPerMode = 2
        return c
    }
    return [
        ("sample-mixed.pcap", GeneratorConfig(preset: .sample)),
        ("ftp-active-v4.pcap", ftp([.port, .eprt4])),
        ("ftp-passive-v4.pcap", ftp([.pasv, .epsv4])),
        ("ftp-ipv6.pcap", ftp([.eprt6, .epsv6])),
        ("tftp.pcap", GeneratorConfig(preset: .tftp)),
    ]
}()

@Suite struct SampleTraceTests {
    @Test(arguments: sampleTraces.map(\.file))
    func committedSampleRegeneratesByteIdentical(file: String) throws {
        let config = try #require(sampleTraces.first { $0.file == file }?.config)
        let committed = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("traces").appendingPathComponent(file)
        let expected = try #require(FileManager.default.contents(atPath: committed.path),
                                    "committed sample trace missing at \(committed.path)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("synth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent(file).path
        try TraceGenerator(config: config).generate().trace.write(to: out)
        let generated = try #require(FileManager.default.contents(atPath: out))
        #expect(generated == expected, "\(file) no longer regenerates byte-identical; rerun the command in traces/README.md if the change is intended")
        #expect(expected.count < 1 << 20)
        // And it loads back with the same packets.
        let loaded = try TraceLoader.loadComplete(path: out)
        #expect(loaded.count == TraceGenerator(config: config).generate().summary.packets)
    }
}
