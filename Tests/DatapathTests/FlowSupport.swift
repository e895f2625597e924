import Conntrack
import Datapath
import FlowTable
import Foundation
import PacketParsing
import TestSupport
import TraceIO
import TraceSynthesis

/// Running traces through a flow table, alone and sharded, for the flow-table tests.
enum FlowRuns {
    /// A committed flow file (flows/NAME) with an in_port map (`--in-port` text).
    static func policy(_ name: String, inPorts: String? = nil) throws -> FlowPolicy {
        let text = try String(contentsOfFile: TestPaths.flowFile(name), encoding: .utf8)
        return try FlowPolicy(text: text, inPorts: try inPorts.map { try InPortMap.parse($0) } ?? InPortMap())
    }

    /// The seed policies' ports: 1 = 10.1.1.1, 2 = 10.1.1.2.
    static let seedPorts = "1=10.1.1.1/32,2=10.1.1.2/32"

    /// The single-partition reference with `policy`.
    static func single(_ trace: Trace, _ policy: FlowPolicy, loops: Int = 1,
                       core: () -> DefaultPipeline = { DefaultPipeline() }) -> [PacketVerdict] {
        let pipeline = FlowPipeline(policy: policy, core: core())
        var verdicts: [PacketVerdict] = []
        let replay = TraceReplay(trace: trace)
        for loop in 0..<loops {
            replay.run(loop: loop, through: pipeline) { _, verdict in verdicts.append(verdict) }
        }
        return verdicts
    }

    /// The sharded datapath with `policy` in every shard.
    static func sharded(_ trace: Trace, _ policy: FlowPolicy, shards: Int, batch: Int, loops: Int = 1) async -> [PacketVerdict] {
        let datapath = ShardedDatapath(trace: trace, shardCount: shards, batch: batch, hashSeed: ConntrackConfig().hashSeed,
                                       collectVerdicts: true, loops: loops, policy: policy) { DefaultPipeline() }
        for loop in 0..<loops { await datapath.run(loop: loop) }
        return datapath.sink!.verdicts
    }

    /// The first packet whose verdicts differ, described; nil when they are all equal.
    static func firstDifference(_ expected: [PacketVerdict], _ got: [PacketVerdict]) -> String? {
        if expected.count != got.count { return "\(got.count) verdicts instead of \(expected.count)" }
        guard let i = expected.indices.first(where: { expected[$0] != got[$0] }) else { return nil }
        return "packet \(i): expected \(expected[i].line(index: i)), got \(got[i].line(index: i))"
    }
}

/// Traces of the seed's scenario (issue 7, "Must show"): ARP both ways and a ping, then an
/// active-mode FTP session: control connection with PORT, RETR, and the data connection from
/// the server's port 20 back to the announced client port.
enum SeedTraces {
    struct ActiveFTP {
        let trace: Trace
        /// Indices of the control connection's SYN and of the data connection's SYN.
        let controlSYN: Int
        let dataSYN: Int
    }

    static func activeFTP(client clientIP: String, server serverIP: String, dataPort: UInt16 = 50_000) -> ActiveFTP {
        var b = TraceBuilder()
        let client = Endpoint(ip: clientIP, port: 40_000)
        let server = Endpoint(ip: serverIP, port: 21)
        b.append(PacketBuilder.arp(from: client.address, to: server.address))
        b.append(PacketBuilder.arp(from: server.address, to: client.address, reply: true))
        b.append(PacketBuilder.icmpEcho(from: client.address, to: server.address, identifier: 7, sequence: 1))
        b.append(PacketBuilder.icmpEcho(from: server.address, to: client.address, reply: true, identifier: 7, sequence: 1))
        var control = TCPConversation(client: client, server: server)
        let controlSYN = b.count
        control.handshake(into: &b)
        let v4 = client.address.v4!
        let comma = "\(v4 >> 24),\((v4 >> 16) & 0xff),\((v4 >> 8) & 0xff),\(v4 & 0xff)"
        for (fromClient, line) in [(false, "220 ready"), (true, "USER anonymous"), (false, "331 Password please."),
                                   (true, "PASS guest"), (false, "230 Logged in."),
                                   (true, "PORT \(comma),\(dataPort >> 8),\(dataPort & 0xff)"),
                                   (false, "200 PORT command successful."), (true, "RETR file.bin"),
                                   (false, "150 Opening BINARY mode data connection.")] {
            control.send(fromClient: fromClient, text: line + "\r\n", into: &b)
        }
        var data = TCPConversation(client: server.with(port: 20), server: client.with(port: dataPort))
        let dataSYN = b.count
        data.handshake(into: &b)
        data.send(fromClient: true, payload: [UInt8](repeating: 0x5A, count: 3_000), acked: true, into: &b)
        data.close(into: &b)
        for (fromClient, line) in [(false, "226 Transfer complete."), (true, "QUIT"), (false, "221 Goodbye.")] {
            control.send(fromClient: fromClient, text: line + "\r\n", into: &b)
        }
        control.close(initiatedByClient: false, into: &b)
        return ActiveFTP(trace: b.makeTrace(name: "active FTP \(clientIP) -> \(serverIP)"), controlSYN: controlSYN,
                         dataSYN: dataSYN)
    }
}
