import PacketParsing

/// Writes a flood trace (`FloodConfig`): the background connections open, then the flood with
/// the background's exchanges spread evenly through it, then the background closes. Same
/// configuration, same bytes; the background frames do not depend on the flood at all.
///
///     let (trace, summary) = FloodGenerator(config: FloodConfig(kind: .syn, packets: 5_000)).generate()
public struct FloodGenerator: Sendable {
    public let config: FloodConfig

    public init(config: FloodConfig) { self.config = config }

    /// Generates into an in-memory trace.
    public func generate() -> (trace: TraceBuilder, summary: FloodSummary) {
        var builder = TraceBuilder()
        let summary = generate(into: &builder)
        return (builder, summary)
    }

    /// Generates into any sink (a `PcapFileSink` for floods of millions of packets).
    public func generate(into sink: inout some FrameSink) -> FloodSummary {
        var state = FloodState(config: config)
        state.run(into: &sink)
        return state.summary
    }
}

/// The generator's state while it writes one trace.
struct FloodState {
    let config: FloodConfig
    var rng: Xoshiro256StarStar
    var summary = FloodSummary()
    var background: [TCPConversation] = []
    /// Spoofed sources handed out so far (a bijective mix of it never repeats a tuple).
    var sourceCounter: UInt32 = 0
    /// `expectations`: the control connection and the ports it announced (bounces excluded).
    var control: TCPConversation?
    var announced: [UInt16] = []
    /// `fragments`: fragments of the current datagram still to send.
    var pendingFragments: [[UInt8]] = []

    static let server = Endpoint(ip: "172.31.255.1", port: 80)

    init(config: FloodConfig) {
        self.config = config
        rng = Xoshiro256StarStar(seed: config.seed)
    }

    mutating func emit(_ frame: [UInt8], into sink: inout some FrameSink) {
        sink.append(frame)
        summary.packets += 1
        summary.bytes += frame.count
    }

    mutating func emitBackground(_ frames: [[UInt8]], into sink: inout some FrameSink) {
        for frame in frames {
            summary.backgroundIndices.append(summary.packets)
            emit(frame, into: &sink)
        }
    }

    mutating func run(into sink: inout some FrameSink) {
        for i in 0..<config.backgroundFlows {
            let client = Endpoint(address: IPAddress(v4: 0x0AFF_0000 | UInt32(i + 1)), port: UInt16(30_000 + i % 30_000))
            var c = TCPConversation(client: client, server: Self.server, clientISN: UInt32(i) &* 7_919, serverISN: UInt32(i) &* 104_729)
            var frames: [[UInt8]] = []
            c.handshake(into: &frames)
            background.append(c)
            emitBackground(frames, into: &sink)
        }
        prologue(into: &sink)
        let exchanges = config.backgroundFlows * config.backgroundExchanges
        var next = 0
        for unit in 0..<config.packets {
            floodUnit(unit, into: &sink)
            if unit == config.packets / 2 && config.backgroundFlows > 0 {
                summary.lateConnectionSYN = summary.packets
                emit(PacketBuilder.tcp(from: Endpoint(ip: "10.255.255.254", port: 33_333), to: Self.server, flags: .syn,
                                       seq: 1, options: TCPOption.synDefaults), into: &sink)
            }
            while next < exchanges && (next + 1) * config.packets / (exchanges + 1) <= unit {
                backgroundExchange(next, into: &sink)
                next += 1
            }
        }
        while next < exchanges {
            backgroundExchange(next, into: &sink)
            next += 1
        }
        epilogue(into: &sink)
        for i in background.indices {
            var frames: [[UInt8]] = []
            background[i].close(into: &frames)
            emitBackground(frames, into: &sink)
        }
    }

    /// Exchange `n`: a request and a response on background connection `n % flows`.
    mutating func backgroundExchange(_ n: Int, into sink: inout some FrameSink) {
        let i = n % background.count
        var frames: [[UInt8]] = []
        background[i].send(fromClient: true, payload: [UInt8](repeating: UInt8(truncatingIfNeeded: n), count: 100), into: &frames)
        background[i].send(fromClient: false, payload: [UInt8](repeating: UInt8(truncatingIfNeeded: n + 1), count: 200), into: &frames)
        emitBackground(frames, into: &sink)
    }

    /// A spoofed source address never handed out before (24 bits of a mixed counter).
    mutating func spoofedSource(v6: Bool, prefix: UInt32) -> IPAddress {
        sourceCounter &+= 1
        let mixed = (sourceCounter &* 0x9E37_79B1) & 0x00FF_FFFF  // odd multiplier mod 2^24: a bijection
        return v6 ? IPAddress(high: 0x2001_0db8_0bad_0000, low: UInt64(mixed) + 1) : IPAddress(v4: prefix | mixed)
    }
}
