import ArgumentParser

/// The `ctbench` command: replays packet traces through the connection tracker and measures it.
/// `run` is the default subcommand, so `ctbench trace.pcap` runs a trace.
public struct CTBench: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ctbench",
        abstract: "Replay pcap/pcapng traces through a sharded userspace conntrack and measure it.",
        version: CTBench.versionText,
        subcommands: [RunCommand.self, GenerateCommand.self, CompareCommand.self, SweepCommand.self],
        defaultSubcommand: RunCommand.self)

    static var versionText: String {
        "ctbench \(CTBench.version)\n\(AllocatorProbe.run().description)"
    }

    public static let version = "0.1.0"

    public init() {}

    /// Parses the command line and runs the command, awaiting the async ones (`run`, `sweep`).
    public static func runMain() async {
        do {
            var command = try parseAsRoot()
            if let run = command as? RunCommand {
                try await run.execute()
            } else if let sweep = command as? SweepCommand {
                try await sweep.execute()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
