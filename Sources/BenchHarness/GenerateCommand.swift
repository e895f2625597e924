import ArgumentParser
import TraceIO
import TraceSynthesis

/// `ctbench gen OUT.pcap`: writes a deterministic synthetic trace.
public struct GenerateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gen",
        abstract: "Write a deterministic synthetic pcap trace (TCP, UDP, ICMP, IPv6, VLAN, FTP, TFTP).",
        discussion: """
            Starts from a preset and applies the options given. Same options, same bytes.
            Presets: sample (3k packets, a bit of everything), ftp (FTP sessions only), \
            tftp (TFTP only), bench (1M packets, 10k TCP flows), flows (2M packets, 100k TCP flows).
            FTP modes: \(FTPMode.allCases.map(\.rawValue).joined(separator: ", ")).
            With --flood KIND the trace is a flood instead (\(FloodKind.allCases.map(\.rawValue).joined(separator: ", "))): \
            --flood-packets units of it interleaved with --background-flows well-behaved TCP connections.
            """)

    @Argument(help: "The pcap file to write.")
    var output: String

    @Option(help: "Starting configuration: \(GeneratorPreset.allCases.map(\.rawValue).joined(separator: "|")).")
    var preset: String = "sample"

    @Option(help: "Target packet count (0: only the FTP/TFTP sessions).")
    var packets: Int?

    @Option(help: "Number of plain TCP flows.")
    var flows: Int?

    @Option(help: "Sessions open at once (interleaving width).")
    var concurrency: Int?

    @Option(help: "Mean data exchanges per TCP flow, when --flows is not given.")
    var exchanges: Int?

    @Option(help: "PRNG seed.")
    var seed: UInt64?

    @Option(name: .customLong("ipv6-share"), help: "Share of sessions over IPv6 (0...1).")
    var ipv6Share: Double?

    @Option(name: .customLong("udp-share"), help: "Share of packets in UDP request/reply pairs (0...1).")
    var udpShare: Double?

    @Option(name: .customLong("icmp-share"), help: "Share of packets in ICMP echo pairs (0...1).")
    var icmpShare: Double?

    @Flag(help: "Tag sessions with VLANs (802.1Q, some QinQ).")
    var vlan = false

    @Option(name: .customLong("ftp-sessions"), help: "FTP sessions per FTP mode.")
    var ftpSessions: Int?

    @Option(name: .customLong("ftp-modes"), help: "Comma-separated FTP modes to script.")
    var ftpModes: String?

    @Option(name: .customLong("tftp-sessions"), help: "TFTP sessions (alternately RRQ and WRQ).")
    var tftpSessions: Int?

    @Flag(help: "Write nanosecond timestamps (default: microseconds).")
    var nanosecond = false

    @OptionGroup var flood: FloodOptions

    public init() {}

    /// The generator configuration these options describe.
    func makeConfig() throws -> GeneratorConfig {
        guard let p = GeneratorPreset(rawValue: preset) else {
            throw ValidationError("unknown preset '\(preset)'; use one of \(GeneratorPreset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var config = GeneratorConfig(preset: p)
        if let packets { config.packets = packets }
        if let flows { config.tcpFlows = flows }
        if let exchanges { config.exchangesPerFlow = exchanges; if flows == nil { config.tcpFlows = nil } }
        if let concurrency { config.concurrency = concurrency }
        if let seed { config.seed = seed }
        for (name, share) in [("ipv6-share", ipv6Share), ("udp-share", udpShare), ("icmp-share", icmpShare)] {
            if let share, !(0...1).contains(share) { throw ValidationError("--\(name) must be between 0 and 1") }
        }
        if let ipv6Share { config.ipv6Share = ipv6Share }
        if let udpShare { config.udpShare = udpShare }
        if let icmpShare { config.icmpShare = icmpShare }
        if vlan { config.vlan = true }
        if let ftpSessions { config.ftpSessionsPerMode = ftpSessions }
        if let tftpSessions { config.tftpSessions = tftpSessions }
        if let ftpModes {
            config.ftpModes = try ftpModes.split(separator: ",").map {
                guard let m = FTPMode(rawValue: String($0)) else { throw ValidationError("unknown FTP mode '\($0)'") }
                return m
            }
        }
        return config
    }

    public func run() throws {
        if let config = try flood.config(seed: seed) {
            var sink = try PcapFileSink(path: output, nanosecond: nanosecond)
            let summary = FloodGenerator(config: config).generate(into: &sink)
            try sink.close()
            print("wrote \(output): \(config.kind.rawValue) flood, \(summary)")
            return
        }
        let config = try makeConfig()
        var sink = try PcapFileSink(path: output, nanosecond: nanosecond)
        let summary = TraceGenerator(config: config).generate(into: &sink)
        try sink.close()
        print("wrote \(output): \(summary)")
    }
}
