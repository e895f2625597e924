import PacketParsing

/// Produces a deterministic synthetic trace from a `GeneratorConfig`: plain TCP flows, UDP
/// request/reply pairs, ICMP echo pairs, FTP sessions in every negotiation mode and TFTP
/// transfers, interleaved up to `concurrency` sessions at a time (order within a session kept).
///
/// Every random choice comes from one `Xoshiro256StarStar` seeded with `config.seed`.
public struct TraceGenerator: Sendable {
    public let config: GeneratorConfig

    public init(config: GeneratorConfig) { self.config = config }

    /// Generates into an in-memory trace.
    public func generate() -> (trace: TraceBuilder, summary: GenerationSummary) {
        var builder = TraceBuilder()
        let summary = generate(into: &builder)
        return (builder, summary)
    }

    /// Generates into any sink (e.g. a `PcapFileSink` for traces too big to keep in memory).
    public func generate(into sink: inout some FrameSink) -> GenerationSummary {
        var state = GeneratorState(config: config)
        return state.run(into: &sink)
    }
}

/// One scheduled session.
enum SessionPlan {
    case tcp(packets: Int)
    case udp
    case icmp
    /// An FTP or TFTP session scripted up front (index into `premade`).
    case premade(Int)
}

struct GeneratorState {
    let config: GeneratorConfig
    var rng: Xoshiro256StarStar
    var hostCounter: UInt32 = 0
    var summary = GenerationSummary()
    var premade: [[[UInt8]]] = []

    init(config: GeneratorConfig) {
        self.config = config
        rng = Xoshiro256StarStar(seed: config.seed)
    }

    mutating func run(into sink: inout some FrameSink) -> GenerationSummary {
        // FTP and TFTP sessions first: their packet counts fix the budget of the rest.
        for mode in config.ftpModes {
            for _ in 0..<config.ftpSessionsPerMode { premade.append(ftpSession(mode: mode)) }
        }
        for i in 0..<config.tftpSessions { premade.append(tftpSession(write: i % 2 == 1)) }
        let fixed = premade.reduce(0) { $0 + $1.count }

        let target = config.packets
        var udpPairs = Int(Double(target) * config.udpShare / 2)
        var icmpPairs = Int(Double(target) * config.icmpShare / 2)
        var remaining = target - fixed - 2 * (udpPairs + icmpPairs)
        while remaining < 0 && udpPairs + icmpPairs > 0 {
            if udpPairs >= icmpPairs { udpPairs -= 1 } else { icmpPairs -= 1 }
            remaining += 2
        }
        remaining = max(remaining, 0)
        var flows = config.tcpFlows ?? (remaining >= 7 ? max(1, remaining / (7 + 2 * max(config.exchangesPerFlow, 0))) : 0)
        flows = min(flows, remaining / 7)
        var sizes: [Int] = []
        if flows > 0 {
            sizes = (0..<flows).map { remaining / flows + ($0 < remaining % flows ? 1 : 0) }
            // Vary flow lengths while keeping the total: move packets between random pairs.
            for i in 0..<flows {
                let spare = sizes[i] - 7
                guard spare > 1 else { continue }
                let d = rng.int(below: spare / 2 + 1)
                let j = rng.int(below: flows)
                sizes[i] -= d
                sizes[j] += d
            }
        }

        var plans: [SessionPlan] = []
        plans.reserveCapacity(flows + udpPairs + icmpPairs + premade.count)
        plans += sizes.map { .tcp(packets: $0) }
        plans += repeatElement(.udp, count: udpPairs)
        plans += repeatElement(.icmp, count: icmpPairs)
        plans += premade.indices.map { .premade($0) }
        rng.shuffle(&plans)

        // Interleave: a pool of open sessions, a random one emits its next packet each step.
        var active: [(frames: [[UInt8]], next: Int)] = []
        var nextPlan = 0
        let width = max(1, config.concurrency)
        while active.count < width && nextPlan < plans.count {
            active.append((materialize(plans[nextPlan]), 0)); nextPlan += 1
        }
        while !active.isEmpty {
            let k = rng.int(below: active.count)
            let frame = active[k].frames[active[k].next]
            sink.append(frame)
            summary.packets += 1
            summary.bytes += frame.count
            active[k].next += 1
            if active[k].next == active[k].frames.count {
                if nextPlan < plans.count {
                    active[k] = (materialize(plans[nextPlan]), 0); nextPlan += 1
                } else {
                    active.swapAt(k, active.count - 1)
                    active.removeLast()
                }
            }
        }
        return summary
    }

    mutating func materialize(_ plan: SessionPlan) -> [[UInt8]] {
        switch plan {
        case .tcp(let n): return tcpFlow(packets: n)
        case .udp: return udpPair()
        case .icmp: return icmpPair()
        case .premade(let i):
            let frames = premade[i]
            premade[i] = []
            return frames
        }
    }

    // MARK: - Hosts, ports, options

    /// A client address not used before: a bijective mix of a counter, so tuples never collide.
    mutating func newClientAddress(v6: Bool) -> IPAddress {
        hostCounter &+= 1
        let mixed = (hostCounter &* 0x9E37_79B1) & 0x00ff_ffff
        return v6 ? IPAddress(high: 0x2001_0db8_00c1_0000, low: 0x0000_0001_0000_0000 | UInt64(mixed))
                  : IPAddress(v4: 0x0A00_0000 | mixed)
    }

    mutating func serverAddress(v6: Bool) -> IPAddress {
        let index = UInt32(rng.int(below: max(config.servers, 1)))
        return v6 ? IPAddress(high: 0x2001_0db8_0005_0000, low: UInt64(index) + 1)
                  : IPAddress(v4: 0xAC10_0000 + index + 1)  // 172.16.0.1 ...
    }

    mutating func ephemeralPort(avoiding avoid: UInt16 = 0) -> UInt16 {
        while true {
            let p = UInt16(rng.int(in: 1024...65535))
            if p != avoid { return p }
        }
    }

    mutating func sessionOptions() -> PacketOptions {
        var p = PacketOptions()
        guard config.vlan else { return p }
        let r = rng.int(below: 10)
        if r < 7 {
            p.vlans = [.dot1Q(UInt16(10 * (1 + rng.int(below: 16))))]
        } else if r < 9 {
            p.vlans = [.dot1ad(UInt16(100 + rng.int(below: 4))), .dot1Q(UInt16(10 * (1 + rng.int(below: 16))))]
        }
        return p
    }

    mutating func conversation(client: Endpoint, server: Endpoint, packet: PacketOptions) -> TCPConversation {
        TCPConversation(client: client, server: server,
                        clientISN: UInt32(truncatingIfNeeded: rng.next()),
                        serverISN: UInt32(truncatingIfNeeded: rng.next()),
                        packet: packet,
                        clientIPID: UInt16(truncatingIfNeeded: rng.next()),
                        serverIPID: UInt16(truncatingIfNeeded: rng.next()))
    }

    /// Deterministic filler bytes.
    mutating func payload(_ count: Int) -> [UInt8] {
        let start = UInt8(truncatingIfNeeded: rng.next())
        return (0..<count).map { start &+ UInt8(truncatingIfNeeded: $0 &* 7) }
    }

    static let tcpServerPorts: [UInt16] = [80, 443, 443, 443, 8080, 22, 25, 993, 3306, 5432]

    // MARK: - Sessions

    /// Handshake, request/response exchanges, and a FIN exchange or RST: exactly `n` (>= 7) packets.
    mutating func tcpFlow(packets n: Int) -> [[UInt8]] {
        let v6 = rng.chance(config.ipv6Share)
        let client = Endpoint(address: newClientAddress(v6: v6), port: ephemeralPort())
        let port = Self.tcpServerPorts[rng.int(below: Self.tcpServerPorts.count)]
        let server = Endpoint(address: serverAddress(v6: v6), port: port)
        var c = conversation(client: client, server: server, packet: sessionOptions())
        let reset = rng.chance(config.rstShare)
        let data = n - 3 - (reset ? 1 : 4)
        var frames: [[UInt8]] = []
        frames.reserveCapacity(n)
        c.handshake(into: &frames)
        for _ in 0..<data / 2 {
            c.send(fromClient: true, payload: payload(rng.int(in: 32...400)), into: &frames)
            c.send(fromClient: false, payload: payload(rng.int(in: 64...max(64, min(config.maxServerPayload, 1460)))), into: &frames)
        }
        if data % 2 == 1 { c.send(fromClient: true, payload: payload(rng.int(in: 32...400)), into: &frames) }
        if reset {
            c.reset(fromClient: rng.chance(0.5), into: &frames)
            summary.tcpFlowsReset += 1
        } else {
            c.close(initiatedByClient: rng.chance(0.7), into: &frames)
        }
        summary.tcpFlows += 1
        if v6 { summary.ipv6Sessions += 1 }
        return frames
    }

    /// A DNS-like query and answer.
    mutating func udpPair() -> [[UInt8]] {
        let v6 = rng.chance(config.ipv6Share)
        let client = Endpoint(address: newClientAddress(v6: v6), port: ephemeralPort())
        let server = Endpoint(address: serverAddress(v6: v6), port: 53)
        let packet = sessionOptions()
        let id = UInt16(truncatingIfNeeded: rng.next())
        var question: [UInt8] = []
        for label in ["host\(rng.int(below: 100_000))", "example", "com"] {
            question.append(UInt8(label.utf8.count))
            question += label.utf8
        }
        question += [0, 0, v6 ? 28 : 1, 0, 1]  // root, type A/AAAA, class IN
        let query = bigEndianBytes(id) + [0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0] + question
        let rdata = v6 ? payload(16) : payload(4)
        let answer = bigEndianBytes(id) + [0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0] + question
            + [0xc0, 0x0c, 0, v6 ? 28 : 1, 0, 1, 0, 0, 0x0e, 0x10, 0, UInt8(rdata.count)] + rdata
        summary.udpFlows += 1
        if v6 { summary.ipv6Sessions += 1 }
        return [PacketBuilder.udp(from: client, to: server, payload: query, packet: packet),
                PacketBuilder.udp(from: server, to: client, payload: answer, packet: packet)]
    }

    mutating func icmpPair() -> [[UInt8]] {
        let v6 = rng.chance(config.ipv6Share)
        let client = newClientAddress(v6: v6), server = serverAddress(v6: v6)
        let packet = sessionOptions()
        let id = UInt16(truncatingIfNeeded: rng.next()), seq = UInt16(rng.int(in: 1...100))
        let data = payload(56)
        summary.icmpFlows += 1
        if v6 { summary.ipv6Sessions += 1 }
        return [PacketBuilder.icmpEcho(from: client, to: server, identifier: id, sequence: seq, payload: data, packet: packet),
                PacketBuilder.icmpEcho(from: server, to: client, reply: true, identifier: id, sequence: seq, payload: data, packet: packet)]
    }
}
