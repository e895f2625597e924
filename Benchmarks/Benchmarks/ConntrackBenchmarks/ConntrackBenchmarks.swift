// The connection table on its own: packets are built as `ParsedPacket`s (no parser, no frames) and
// go straight to `ConntrackPartition.process`. Each iteration runs 1,000 packets
// (`scalingFactor: .kilo`); read the figures per packet with `--scale`.
import Benchmark
import Conntrack
import PacketParsing
import TraceSynthesis

let benchmarks: @Sendable () -> Void = {
    // Time on these shared 2-vCPU VMs is noisy: gate only on allocations (absolute, per
    // 1,000-packet iteration), and keep a very loose guard on time against gross regressions.
    let gated: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: .init(relative: [.p90: 0], absolute: [.p90: 0]),
        .wallClock: .init(relative: [.p90: 300], absolute: [:]),
    ]
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

    for (label, flows) in [("1k", 1_000), ("100k", 100_000), ("1M", 1_000_000)] {
        Benchmark(
            "ConntrackEstablished/\(label)",
            configuration: .init(
                metrics: metrics, timeUnits: .nanoseconds, warmupIterations: 10, scalingFactor: .kilo,
                maxDuration: .seconds(2), maxIterations: 100_000, thresholds: gated)
        ) { benchmark, state in
            state.run(benchmark.scaledIterations.count)
        } setup: {
            EstablishedFixture(flows: flows)
        }
    }

    // One new committed connection per packet; the table holds far more than an iteration adds,
    // and the connections an iteration committed are flushed outside the measured part.
    // Goal: at most 1 malloc per new connection (today: 0).
    Benchmark(
        "ConntrackNewConnection",
        configuration: .init(
            metrics: metrics, timeUnits: .nanoseconds, warmupIterations: 10, scalingFactor: .kilo,
            maxDuration: .seconds(2), maxIterations: 100_000,
            thresholds: [
                // Absolute per 1,000 new connections: the goal is <= 1 each.
                .mallocCountTotal: .init(relative: [.p90: 0], absolute: [.p90: 0]),
                .wallClock: .init(relative: [.p90: 300], absolute: [:]),
            ])
    ) { benchmark, state in
        benchmark.startMeasurement()
        state.commitNew(benchmark.scaledIterations.count)
        benchmark.stopMeasurement()
        state.partition.flush()
    } setup: {
        NewConnectionFixture()
    }
}

// MARK: - Flows and packets

/// Flow `i`: client 10.x.y.z (unique per flow) port 1024-65023 to one of 256 servers on port 443.
@inline(__always)
func flowKey(_ i: Int) -> FlowKey {
    FlowKey(
        src: IPAddress(v4: 0x0A00_0000 &+ UInt32(truncatingIfNeeded: i)),
        dst: IPAddress(v4: 0xAC10_0000 | UInt32(truncatingIfNeeded: i & 0xFF)),
        srcPort: UInt16(truncatingIfNeeded: 1024 + i % 64_000), dstPort: 443,
        proto: IPProtocol.tcp, family: .ipv4)
}

/// Initial sequence numbers of flow `i` (spread over the sequence space, wrap included).
@inline(__always)
func isns(_ i: Int) -> (client: UInt32, server: UInt32) {
    let c = UInt32(truncatingIfNeeded: i) &* 2_654_435_761  // Wrapping: any 32-bit value is a valid ISN.
    return (c, c ^ 0x5A5A_5A5A)
}

/// A TCP segment as the parser would describe an Ethernet/IPv4/TCP frame without options.
@inline(__always)
func segment(_ key: FlowKey, _ flags: TCPFlags, seq: UInt32, ack: UInt32, payload: UInt32 = 0) -> ParsedPacket {
    var p = ParsedPacket()
    p.key = key
    p.etherType = 0x0800
    p.l3Offset = 14
    p.l3Length = 40 + payload
    p.l4Offset = 34
    p.payloadOffset = 54
    p.payloadLength = payload
    p.ipTTL = 64
    p.tcpFlags = flags
    p.tcpSeq = seq
    p.tcpAck = ack
    p.tcpWindow = 65_535
    return p
}

nonisolated(unsafe) let emptyFrame = UnsafeRawBufferPointer(start: nil, count: 0)  // never written through
let commit = CTAction(zone: 0, commit: true)

/// A partition with the handshake of `flows` TCP connections driven through it, one by one.
/// Checksums are off: there are no frames behind these packets.
func establishedPartition(flows: Int, clock: inout UInt64) -> ConntrackPartition {
    let partition = ConntrackPartition(config: ConntrackConfig(maxConnections: max(flows, 1_024), checksums: .off))
    for i in 0..<flows {
        let key = flowKey(i)
        let (c, s) = isns(i)
        let handshake = [
            (segment(key, .syn, seq: c, ack: 0), key),
            (segment(key.reversed, [.syn, .ack], seq: s, ack: c &+ 1), key.reversed),
            (segment(key, .ack, seq: c &+ 1, ack: s &+ 1), key),
        ]
        for (n, (packet, k)) in handshake.enumerated() {
            clock &+= 1_000
            let verdict = partition.process(
                packet, frame: emptyFrame, hash: partition.hash(k), packetIndex: clock, time: clock, action: commit)
            let wanted: CTState = n == 0 ? [.tracked, .new] : n == 1 ? [.tracked, .established, .reply] : [.tracked, .established]
            precondition(verdict.state == wanted, "handshake of flow \(i), packet \(n): \(verdict.state) (\(String(describing: verdict.invalidReason)))")
        }
    }
    precondition(partition.count == flows)
    return partition
}

// MARK: - Fixtures

/// N established connections and a prebuilt batch of pure ACKs over them, both directions, random
/// flow order. Pure ACKs at each side's next sequence number stay in window however often they
/// are replayed, so the batch is reused cyclically.
final class EstablishedFixture: @unchecked Sendable {
    let partition: ConntrackPartition
    let packets: UnsafeMutableBufferPointer<ParsedPacket>
    var cursor = 0
    var clock: UInt64 = 1_000_000_000

    init(flows: Int) {
        partition = establishedPartition(flows: flows, clock: &clock)
        // At least two packets per flow so that every flow is visited each pass; 64k at least so
        // that the 1k case does not replay a tiny, perfectly predictable sequence.
        let count = max(2 * flows, 65_536)
        packets = .allocate(capacity: count)
        var random = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15 ^ UInt64(flows))
        for n in 0..<count {
            let r = random.next()
            let i = Int((r >> 1) % UInt64(flows))
            let key = flowKey(i)
            let (c, s) = isns(i)
            packets[n] = r & 1 == 0
                ? segment(key, .ack, seq: c &+ 1, ack: s &+ 1)
                : segment(key.reversed, .ack, seq: s &+ 1, ack: c &+ 1)
        }
        // One checked pass (also the cache warm-up): every packet must be +est, none +inv.
        for n in 0..<count {
            let verdict = step(packets[n])
            precondition(verdict.state.contains(.established) && !verdict.state.contains(.invalid),
                         "established packet \(n): \(verdict.state) (\(String(describing: verdict.invalidReason)))")
        }
        precondition(partition.count == flows)
    }

    deinit { packets.deallocate() }

    @inline(__always)
    func step(_ packet: ParsedPacket) -> CTVerdict {
        clock &+= 100  // Wrapping: 2^64 ns is centuries.
        return partition.process(packet, frame: emptyFrame, hash: partition.hash(packet.key),
                                 packetIndex: clock, time: clock, action: commit)
    }

    /// Runs the next `n` packets of the batch.
    @inline(never)
    func run(_ n: Int) {
        var established = 0
        for _ in 0..<n {
            let verdict = step(packets[cursor])
            if verdict.state.contains(.established) { established &+= 1 }
            cursor &+= 1
            if cursor == packets.count { cursor = 0 }
        }
        blackHole(established)
    }
}

/// An empty partition with room for 1M connections; each packet is the SYN of a new flow.
final class NewConnectionFixture: @unchecked Sendable {
    let partition = ConntrackPartition(config: ConntrackConfig(maxConnections: 1_000_000, checksums: .off))
    var next = 0
    var clock: UInt64 = 1_000_000_000

    @inline(never)
    func commitNew(_ n: Int) {
        var committed = 0
        for _ in 0..<n {
            let key = flowKey(next)
            next &+= 1
            clock &+= 1_000
            let verdict = partition.process(
                segment(key, .syn, seq: isns(next).client, ack: 0), frame: emptyFrame, hash: partition.hash(key),
                packetIndex: clock, time: clock, action: commit)
            if verdict.connectionID != Connection.noID { committed &+= 1 }
        }
        precondition(committed == n, "ConntrackNewConnection: \(n - committed) commits refused")
    }
}
