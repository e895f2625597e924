import ArgumentParser
import FlowTable
import Foundation

/// `--flows FILE` and `--in-port MAP`: the flow-table policy that replaces the default pipeline
/// in every shard (README, "Flow tables").
struct FlowOptions: ParsableArguments {
    @Option(help: "Run this flow table (OVS flow syntax, see flows/) in every shard instead of the default pipeline.")
    var flows: String?

    @Option(name: .customLong("in-port"),
            help: "in_port rules, first match wins, else port 1: PORT=ADDR[/PREFIX] by source address (ARP: sender address), PORT=ifN by pcapng interface; e.g. 1=10.1.1.1/32,2=10.1.1.2/32.")
    var inPort: String?

    func validate() throws {
        if inPort != nil && flows == nil { throw ValidationError("--in-port needs --flows") }
        _ = try inPorts()
    }

    /// The in_port map (`--in-port`, or every packet on port 1).
    func inPorts() throws -> InPortMap {
        guard let inPort else { return InPortMap() }
        do {
            return try InPortMap.parse(inPort)
        } catch {
            throw ValidationError("--in-port '\(inPort)': \(error.description.replacingOccurrences(of: "line 1, ", with: ""))")
        }
    }

    /// The policy to run, or nil without `--flows`. A file that cannot be read is an input
    /// error; one that does not parse, a bad option (its line and column named).
    func policy() throws -> FlowPolicy? {
        guard let flows else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: flows, encoding: .utf8)
        } catch {
            throw CTBenchError.input("cannot read --flows \(flows): \(error.localizedDescription)")
        }
        do {
            return try FlowPolicy(text: text, inPorts: try inPorts())
        } catch let error as FlowTableError {
            throw ValidationError("--flows \(flows): \(error)")
        }
    }
}
