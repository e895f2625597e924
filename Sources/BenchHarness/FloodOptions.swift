import ArgumentParser
import TraceSynthesis

/// `ctbench gen --flood KIND`: a hostile trace from `FloodGenerator` instead of a preset.
struct FloodOptions: ParsableArguments {
    @Option(help: "Write a flood trace: \(FloodKind.allCases.map(\.rawValue).joined(separator: "|")).")
    var flood: String?

    @Option(name: .customLong("flood-packets"), help: "Flood units (SYNs, PORT commands, ICMP errors, fragments, odd frames).")
    var floodPackets = 100_000

    @Option(name: .customLong("background-flows"), help: "Well-behaved TCP connections interleaved with the flood.")
    var backgroundFlows = 4

    /// The flood configuration asked for, or nil when `--flood` was not given.
    func config(seed: UInt64?) throws -> FloodConfig? {
        guard let flood else { return nil }
        guard let kind = FloodKind(rawValue: flood) else {
            throw ValidationError("unknown flood '\(flood)'; use one of \(FloodKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard floodPackets >= 0, backgroundFlows >= 0 else {
            throw ValidationError("--flood-packets and --background-flows must not be negative")
        }
        return FloodConfig(kind: kind, packets: floodPackets, backgroundFlows: backgroundFlows, seed: seed ?? 1)
    }
}
