// Real frames (built by TraceSynthesis, held in one contiguous TraceIO buffer): the parser alone,
// and the whole default pipeline (parse + conntrack + ALG dispatch). Each iteration runs 1,000
// packets (`scalingFactor: .kilo`); read the figures per packet with `--scale`.
import Benchmark
import Conntrack
import Datapath
import PacketParsing
import TraceIO
import TraceSynthesis

let benchmarks: @Sendable () -> Void = {
    // Gate on allocations only (absolute, per 1,000-packet iteration); time gets a very loose
    // guard against gross regressions, since these shared VMs are noisy.
    let gated: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: .init(relative: [.p90: 0], absolute: [.p90: 0]),
        .wallClock: .init(relative: [.p90: 300], absolute: [:]),
    ]
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], timeUnits: .nanoseconds, warmupIterations: 10,
        scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 100_000, thresholds: gated)

    Benchmark("ParseEthernetIPv4TCP", configuration: configuration) { benchmark, state in
        state.parse(benchmark.scaledIterations.count)
    } setup: {
        ParseFixture()
    }

    Benchmark("DefaultPipelineAnchorLike", configuration: configuration) { benchmark, state in
        state.run(benchmark.scaledIterations.count)
    } setup: {
        PipelineFixture()
    }

    // The general path: every connection opens, exchanges, closes, and opens again on the next
    // pass (a SYN after both FINs starts a new connection). One new connection per 10 packets;
    // the goal allows one malloc per new connection, and there is none today.
    Benchmark("DefaultPipelineConnectionLifecycle", configuration: configuration) { benchmark, state in
        state.run(benchmark.scaledIterations.count)
    } setup: {
        LifecycleFixture()
    }
}

/// The default pipeline over 1,000 TCP connections, each replayed as a whole life (handshake,
/// one data exchange, close from both sides: 10 packets), interleaved; on every pass after the
/// first each SYN reopens its closed connection, so the SYNs take the general steps (commit),
/// the handshakes' and closes' segments the TCP lane's whole tracker, the data its established
/// path. Packets are parsed and hashed before `process`, as in ctbench's replay loop.
final class LifecycleFixture: @unchecked Sendable {
    static let flows = 1_000
    let pipeline = DefaultPipeline()
    let parser = PacketParser(linkType: .ethernet)
    /// Where each packet is parsed (ctbench's look-ahead memory's stand-in).
    let scratch: UnsafeMutablePointer<ParsedPacket> = {
        let scratch = UnsafeMutablePointer<ParsedPacket>.allocate(capacity: 1)
        scratch.initialize(to: ParsedPacket())
        return scratch
    }()
    let table: FrameTable
    var cursor = 0
    var index = 0
    var clock: UInt64 = 1_000_000_000

    init() {
        var perFlow: [[[UInt8]]] = []
        for flow in 0..<Self.flows {
            var conversation = TCPConversation(
                client: Endpoint(address: IPAddress(v4: 0x0A03_0000 | UInt32(flow)), port: UInt16(40_000 + flow)),
                server: Endpoint(address: IPAddress(v4: 0xC0A8_0200 | UInt32(flow & 0x3F)), port: 443),
                clientISN: UInt32(truncatingIfNeeded: flow &* 7_919), serverISN: UInt32(truncatingIfNeeded: flow &* 104_729))
            var frames: [[UInt8]] = []
            conversation.handshake(into: &frames)
            conversation.send(fromClient: true, payload: [UInt8](repeating: 0x47, count: 64), into: &frames)
            conversation.send(fromClient: false, payload: [UInt8](repeating: 0x48, count: 256), into: &frames)
            conversation.close(into: &frames)
            perFlow.append(frames)
        }
        // Interleaved, each flow's packets in order: the flows in a random order, round robin.
        var random = SplitMix64(seed: 0x11FE_C7C1_E000_0001)
        var order = Array(0..<Self.flows)
        for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
        var frames: [[UInt8]] = []
        for step in 0..<perFlow[0].count {
            for flow in order where step < perFlow[flow].count { frames.append(perFlow[flow][step]) }
        }
        table = FrameTable(makeTrace(frames, name: "connection lifecycles"))
        // Two checked passes: nothing invalid, and every SYN (one per life) a new connection.
        for pass in 0..<2 {
            var new = 0
            for i in 0..<table.frames.count {
                let verdict = step(table.frames[i], table.wireLengths[i])
                precondition(!verdict.state.contains(.invalid), "lifecycle fixture pass \(pass) packet \(i): \(verdict.state)")
                if verdict.state.contains(.new) && !verdict.state.contains(.reply) { new += 1 }
            }
            precondition(new == Self.flows, "lifecycle fixture pass \(pass): \(new) new connections")
        }
    }

    deinit {
        table.deallocate()
        scratch.deallocate()
    }

    /// As ctbench's replay loop runs a packet: parsed and hashed first (into memory the
    /// fixture owns, read in place), then `process` (the TCP lane, else the general steps).
    @inline(__always)
    func step(_ frame: UnsafeRawBufferPointer, _ wireLength: Int) -> PacketVerdict {
        clock &+= 100
        index &+= 1
        let outcome = parser.parse(frame, wireLength: wireLength, into: &scratch.pointee)
        let hash = outcome == .ok ? pipeline.partition.hash(scratch.pointee.key) : 0
        return pipeline.process(UnsafePointer(scratch), outcome: outcome, hash: hash, frame: frame,
                                wireLength: wireLength, index: index, time: clock)
    }

    @inline(never)
    func run(_ n: Int) {
        blackHole(table.replay(n, from: &cursor, counting: .new) { step($0, $1) })
    }
}

/// A trace's frames as (bytes, wire length) pairs, so the measured loop does no record look-ups.
struct FrameTable {
    let trace: Trace
    let frames: UnsafeMutableBufferPointer<UnsafeRawBufferPointer>
    let wireLengths: UnsafeMutableBufferPointer<Int>

    init(_ trace: Trace) {
        self.trace = trace
        frames = .allocate(capacity: trace.count)
        wireLengths = .allocate(capacity: trace.count)
        for i in 0..<trace.count {
            frames[i] = trace.frame(i)
            wireLengths[i] = Int(trace.records[i].wireLength)
        }
    }

    func deallocate() {
        frames.deallocate()
        wireLengths.deallocate()
    }

    /// Runs `n` frames through `step` from `cursor` on, wrapping at the end; returns how many
    /// verdicts had `state` (for `blackHole`).
    @inline(__always)
    func replay(_ n: Int, from cursor: inout Int, counting state: CTState,
                _ step: (UnsafeRawBufferPointer, Int) -> PacketVerdict) -> Int {
        var counted = 0
        for _ in 0..<n {
            if step(frames[cursor], wireLengths[cursor]).state.contains(state) { counted &+= 1 }
            cursor &+= 1
            if cursor == frames.count { cursor = 0 }
        }
        return counted
    }
}

/// Frames of `frames` in one contiguous, cache-line-aligned buffer.
func makeTrace(_ frames: [[UInt8]], name: String) -> Trace {
    let assembler = TraceAssembler(capacity: frames.reduce(0) { $0 + $1.count + 64 }, expectedPackets: frames.count)
    for (i, frame) in frames.enumerated() {
        assembler.append(frame: frame, timestampNanos: UInt64(i) * 1_000)
    }
    return assembler.finish(name: name)
}

/// 4,096 Ethernet/IPv4/TCP frames (no VLAN), 1,024 flows, both directions: pure ACKs and data
/// segments of 64, 256 and 1,400 bytes, in a shuffled order.
final class ParseFixture: @unchecked Sendable {
    let table: FrameTable
    var cursor = 0
    let parser = PacketParser(linkType: .ethernet)

    init() {
        var frames: [[UInt8]] = []
        var random = SplitMix64(seed: 0x0DDB_1A5E_5BAD_5EED)
        let payloadSizes = [0, 64, 256, 1_400]
        for n in 0..<4_096 {
            let flow = n % 1_024
            let client = Endpoint(address: IPAddress(v4: 0x0A01_0000 | UInt32(flow)), port: UInt16(20_000 + flow))
            let server = Endpoint(address: IPAddress(v4: 0xC0A8_0000 | UInt32(flow & 0x3F)), port: 443)
            let fromClient = random.next() & 1 == 0
            let payload = [UInt8](repeating: 0x61, count: payloadSizes[Int(random.next() % 4)])
            frames.append(PacketBuilder.tcp(
                from: fromClient ? client : server, to: fromClient ? server : client,
                flags: payload.isEmpty ? .ack : [.psh, .ack], seq: UInt32(truncatingIfNeeded: random.next()),
                ack: UInt32(truncatingIfNeeded: random.next()), payload: payload))
        }
        for i in stride(from: frames.count - 1, to: 0, by: -1) {
            frames.swapAt(i, Int(random.next() % UInt64(i + 1)))
        }
        table = FrameTable(makeTrace(frames, name: "parse"))
        // Every frame must parse as IPv4/TCP.
        for i in 0..<table.frames.count {
            var packet = ParsedPacket()
            let outcome = parser.parse(table.frames[i], wireLength: table.wireLengths[i], into: &packet)
            precondition(outcome == .ok && packet.key.proto == IPProtocol.tcp, "parse fixture frame \(i): \(outcome)")
        }
    }

    deinit { table.deallocate() }

    @inline(never)
    func parse(_ n: Int) {
        var ok = 0
        for _ in 0..<n {
            var packet = ParsedPacket()
            if parser.parse(table.frames[cursor], wireLength: table.wireLengths[cursor], into: &packet) == .ok {
                ok &+= Int(packet.payloadLength)
            }
            cursor &+= 1
            if cursor == table.frames.count { cursor = 0 }
        }
        blackHole(ok)
    }
}

/// The default pipeline with 1,000 established TCP connections (handshakes replayed in setup),
/// then a measured trace shaped like the anchor trace's steady state: data exchanges (client 64
/// bytes, server 256 bytes, each acknowledging the other) on many interleaved flows, replayed
/// cyclically. A replay rewinds each flow by ~8 KB of sequence space, well inside the windows,
/// so replayed segments stay valid (the setup checks that two full passes drop nothing).
final class PipelineFixture: @unchecked Sendable {
    static let flows = 1_000
    static let exchangesPerFlow = 24

    let pipeline = DefaultPipeline()
    let table: FrameTable
    var cursor = 0
    var index = 0
    var clock: UInt64 = 1_000_000_000

    init() {
        var handshakes: [[UInt8]] = []
        var perFlow: [[[UInt8]]] = []
        for flow in 0..<Self.flows {
            var conversation = TCPConversation(
                client: Endpoint(address: IPAddress(v4: 0x0A02_0000 | UInt32(flow)), port: UInt16(30_000 + flow)),
                server: Endpoint(address: IPAddress(v4: 0xC0A8_0100 | UInt32(flow & 0x3F)), port: 80),
                clientISN: UInt32(truncatingIfNeeded: flow &* 7_919), serverISN: UInt32(truncatingIfNeeded: flow &* 104_729))
            conversation.handshake(into: &handshakes)
            var frames: [[UInt8]] = []
            for _ in 0..<Self.exchangesPerFlow {
                conversation.send(fromClient: true, payload: [UInt8](repeating: 0x47, count: 64), into: &frames)
                conversation.send(fromClient: false, payload: [UInt8](repeating: 0x48, count: 256), into: &frames)
            }
            perFlow.append(frames)
        }
        // Interleave: pick a random flow with packets left, take its next packet.
        var random = SplitMix64(seed: 0xA17C_0125_EED5_0001)
        var next = [Int](repeating: 0, count: Self.flows)
        var open = Array(0..<Self.flows)
        var steady: [[UInt8]] = []
        while !open.isEmpty {
            let slot = Int(random.next() % UInt64(open.count))
            let flow = open[slot]
            steady.append(perFlow[flow][next[flow]])
            next[flow] += 1
            if next[flow] == perFlow[flow].count { open.swapAt(slot, open.count - 1); open.removeLast() }
        }
        table = FrameTable(makeTrace(steady, name: "anchor-like steady state"))

        let handshakeTable = FrameTable(makeTrace(handshakes, name: "handshakes"))
        for i in 0..<handshakeTable.frames.count {
            _ = step(handshakeTable.frames[i], handshakeTable.wireLengths[i])
        }
        handshakeTable.deallocate()
        precondition(pipeline.partition.count == Self.flows, "pipeline fixture: \(pipeline.partition.count) connections")
        // Two checked passes (wrap-around included): every packet established, nothing dropped.
        let droppedBefore = pipeline.counters.dropped
        for pass in 0..<2 {
            for i in 0..<table.frames.count {
                let verdict = step(table.frames[i], table.wireLengths[i])
                precondition(verdict.state.contains(.established) && !verdict.state.contains(.invalid),
                             "pipeline fixture pass \(pass) packet \(i): \(verdict.state)")
            }
        }
        precondition(pipeline.counters.dropped == droppedBefore)
    }

    deinit { table.deallocate() }

    @inline(__always)
    func step(_ frame: UnsafeRawBufferPointer, _ wireLength: Int) -> PacketVerdict {
        clock &+= 1_000  // Wrapping: 2^64 ns is centuries.
        index &+= 1
        return pipeline.process(frame, wireLength: wireLength, linkType: .ethernet, index: index, time: clock)
    }

    @inline(never)
    func run(_ n: Int) {
        blackHole(table.replay(n, from: &cursor, counting: .established) { step($0, $1) })
    }
}
