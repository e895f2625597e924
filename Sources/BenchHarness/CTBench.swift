import ArgumentParser

/// The `ctbench` command: replays packet traces through the connection tracker and measures it.
public struct CTBench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ctbench",
        abstract: "Replay pcap/pcapng traces through a sharded userspace conntrack and measure it.",
        subcommands: [GenerateCommand.self])

    public init() {}
    public func run() throws {}
}
