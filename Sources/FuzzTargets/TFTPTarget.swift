import ApplicationGateways
import Conntrack
import Datapath
import TraceSynthesis

/// The `tftp` target: the input is a datagram a client sends to UDP port 69. It goes through
/// `TFTPRequestParser` and the pipeline; the server's reply from a new port must be
/// `+trk+new+rel` exactly when the parser saw a read or write request, and the ALG's counters
/// must say what the parser said (an empty datagram is not looked at).
enum TFTPTarget {
    static let client = Endpoint(ip: "10.2.2.1", port: 40_001)
    static let server = Endpoint(ip: "10.2.2.2", port: 69)

    static func run(_ input: UnsafeRawBufferPointer) -> [String] {
        let payload = [UInt8](input.prefix(60_000))  // fits an IPv4 datagram
        let parsed = TFTPRequestParser().parse(payload)
        var frames = TraceBuilder()
        frames.append(PacketBuilder.udp(from: client, to: server, payload: payload))
        frames.append(PacketBuilder.udp(from: server.with(port: 50_000), to: client, payload: [0, 3, 0, 1, 0x41]))
        let pipeline = DefaultPipeline(config: ConntrackConfig(maxConnections: 8))
        var verdicts: [PacketVerdict] = []
        let trace = frames.makeTrace(name: "fuzz tftp")
        TraceReplay(trace: trace).run(loop: 0, through: pipeline) { _, verdict in verdicts.append(verdict) }
        var checks = Invariants()
        PipelineInvariants.check(pipeline, packets: trace.count, &checks)
        let stats = pipeline.algs.stats
        var isRequest = false
        switch parsed {
        case .request: isRequest = true
        case .rejected:
            // An empty datagram carries nothing for the ALG to look at: not counted.
            checks.check(stats.tftpMalformed == (payload.isEmpty ? 0 : 1), "rejected datagram counted \(stats.tftpMalformed) malformed")
        case .none: checks.check(stats.tftpMalformed == 0, "non-request counted malformed")
        }
        checks.check(stats.tftpRequests == (isRequest ? 1 : 0), "parser says request: \(isRequest), ALG counted \(stats.tftpRequests)")
        let reply: CTState = isRequest ? [.tracked, .new, .related] : [.tracked, .new]
        checks.check(verdicts.count == 2 && verdicts[1].state == reply,
                     "reply is \(verdicts.last?.state ?? []), expected \(reply) (parse: \(parsed))")
        return checks.violations
    }
}
