import Foundation
import FuzzTargets
import Testing
import TestSupport

/// The committed fuzz corpus (Fuzz/Corpus: seeds and every input that once crashed a target,
/// named `regression-*`) replayed through the fuzz targets, and a bounded run of deterministic
/// mutations of it: the suite's share of the fuzzing that scripts/fuzz.sh does at length.
@Suite struct FuzzCorpusTests {
    /// The corpus folder a target starts from (datapath reads the packet target's format).
    static func corpus(of target: FuzzTarget) throws -> [(name: String, bytes: [UInt8])] {
        let folder = TestPaths.packageRoot.appendingPathComponent("Fuzz/Corpus")
            .appendingPathComponent(target == .datapath ? "packet" : target.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return try names.map { ($0, [UInt8](try Data(contentsOf: folder.appendingPathComponent($0)))) }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everyCorpusInputKeepsTheInvariants(target: FuzzTarget) async throws {
        let inputs = try Self.corpus(of: target)
        #expect(inputs.count >= 10, "Fuzz/Corpus/\(target.rawValue) holds \(inputs.count) inputs")
        for (name, bytes) in inputs {
            let violations = await target.run(bytes)
            #expect(violations.isEmpty, "\(target.rawValue)/\(name): \(violations)")
        }
    }

    /// Mutations per target: a few seconds in a debug build (the datapath target is the slow one).
    static func mutations(_ target: FuzzTarget) -> Int {
        switch target {
        case .datapath: 200
        case .ftp, .pcap: 1_000
        default: 4_000
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func mutatedCorpusKeepsTheInvariants(target: FuzzTarget) async throws {
        let inputs = try Self.corpus(of: target)
        var mutator = Mutator(seed: 0x5EED ^ UInt64(target.rawValue.utf8.count))
        for i in 0..<Self.mutations(target) {
            let (name, seed) = inputs[i % inputs.count]
            let bytes = mutator.mutate(seed)
            let violations = await target.run(bytes)
            #expect(violations.isEmpty, "\(target.rawValue): mutation \(i) of \(name) (\(bytes.count) bytes: \(bytes.prefix(64))...): \(violations)")
            if !violations.isEmpty { return }
        }
    }
}
