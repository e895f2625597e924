import ApplicationGateways
import Conntrack
import Datapath
import PacketParsing
import TraceSynthesis

/// The `ftp` target: control-connection bytes through the FTP parser, the line assembler and
/// the FTP ALG in the pipeline.
///
///     byte 0   bit 0 first segment from the server, bit 1 IPv6, bit 2 refuse privileged
///              ports, bit 3 a 32-byte line limit instead of 256
///     byte 1   seed of the segment sizes and directions
///     rest     the bytes of the control stream
///
/// Properties: the parser answers every line without trapping; the assembler delivers the
/// same lines and overlong counts whether the stream comes whole or cut anywhere, never a
/// line longer than its limit or holding a LF, and its buffer stays within the limit; out of
/// order, it still keeps those bounds; the pipeline's accounts hold (`PipelineInvariants`).
enum FTPTarget {
    static func run(_ input: UnsafeRawBufferPointer) -> [String] {
        var reader = FuzzReader(input)
        let options = reader.byte()
        let seed = reader.byte()
        let stream = reader.rest()
        let maximumLineLength = options & 0x08 != 0 ? 32 : FTPMessageParser.defaultMaximumLineLength
        var checks = Invariants()
        parseLines(stream, maximumLineLength: maximumLineLength, &checks)
        let sizes = segmentSizes(total: stream.count, seed: seed)
        assemble(stream, sizes: sizes, maximumLineLength: maximumLineLength, &checks)
        assembleOutOfOrder(stream, sizes: sizes, seed: seed, maximumLineLength: maximumLineLength, &checks)
        pipeline(stream, sizes: sizes, options: options, seed: seed, maximumLineLength: maximumLineLength, &checks)
        return checks.violations
    }

    /// Segment lengths that cut `total` bytes anywhere (1 to 64 bytes, or one segment).
    static func segmentSizes(total: Int, seed: UInt8) -> [Int] {
        var rng = Xoshiro256StarStar(seed: UInt64(seed))
        var sizes: [Int] = []
        var left = total
        while left > 0 {
            let size = seed == 0 ? left : min(left, 1 + rng.int(below: 64))
            sizes.append(size)
            left -= size
        }
        return sizes
    }

    /// The whole stream and every LF-separated line, both directions, through the parser.
    static func parseLines(_ stream: UnsafeRawBufferPointer, maximumLineLength: Int, _ checks: inout Invariants) {
        let parser = FTPMessageParser(maximumLineLength: maximumLineLength)
        var start = 0
        for i in 0...stream.count where i == stream.count || stream[i] == lineFeed {
            let line = UnsafeRawBufferPointer(rebasing: stream[start..<i])
            for fromClient in [true, false] {
                if case .announcement(let a) = parser.parse(line, fromClient: fromClient) {
                    checks.check(a.port != 0, "announcement of port 0 accepted: \(Array(line))")
                }
            }
            start = i + 1
        }
        for fromClient in [true, false] { _ = parser.parse(stream, fromClient: fromClient) }
    }

    /// What an assembler delivered.
    struct Delivery: Equatable {
        var lines: [[UInt8]] = []
        var overlong = 0
    }

    /// In order, whole and cut into `sizes`: the same lines.
    static func assemble(_ stream: UnsafeRawBufferPointer, sizes: [Int], maximumLineLength: Int,
                         _ checks: inout Invariants) {
        var whole = FTPLineAssembler(maximumLineLength: maximumLineLength)
        var wholeDelivery = Delivery()
        wholeDelivery.overlong = whole.feed(seq: 1_000, payload: stream) { wholeDelivery.lines.append(Array($0)) }.overlongLines
        var cut = FTPLineAssembler(maximumLineLength: maximumLineLength)
        var cutDelivery = Delivery()
        var offset = 0
        for size in sizes {
            let segment = UnsafeRawBufferPointer(rebasing: stream[offset..<offset + size])
            cutDelivery.overlong += cut.feed(seq: 1_000 &+ UInt32(offset), payload: segment) {
                cutDelivery.lines.append(Array($0))
            }.overlongLines
            offset += size
            checkBounds(cut, maximumLineLength: maximumLineLength, &checks)
        }
        checks.check(wholeDelivery == cutDelivery,
                     "assembler: whole stream gave \(wholeDelivery.lines.count) lines / \(wholeDelivery.overlong) overlong, "
                     + "cut into \(sizes.count) segments \(cutDelivery.lines.count) / \(cutDelivery.overlong)")
        for line in wholeDelivery.lines {
            checks.check(line.count <= maximumLineLength, "assembler delivered a \(line.count)-byte line")
            checks.check(!line.contains(lineFeed), "assembler delivered a line holding a LF")
        }
    }

    /// Segments retransmitted, skipped (gaps) and overlapping, chosen by the seed: bounds only.
    static func assembleOutOfOrder(_ stream: UnsafeRawBufferPointer, sizes: [Int], seed: UInt8,
                                   maximumLineLength: Int, _ checks: inout Invariants) {
        var rng = Xoshiro256StarStar(seed: UInt64(seed) | 0x100)
        var assembler = FTPLineAssembler(maximumLineLength: maximumLineLength)
        var offset = 0
        var capacity = 0
        for size in sizes {
            let choice = rng.int(below: 8)
            if choice == 0 { offset += size; continue }  // lost: a gap
            let back = choice == 1 ? min(offset, rng.int(below: 16)) : 0  // overlaps what came before
            let segment = UnsafeRawBufferPointer(rebasing: stream[(offset - back)..<(offset + size)])
            // The sequence number wraps on purpose: start near 2^32.
            _ = assembler.feed(seq: UInt32.max &- 40 &+ UInt32(offset - back), payload: segment) { line in
                checks.check(line.count <= maximumLineLength, "assembler (out of order) delivered a \(line.count)-byte line")
            }
            if choice == 2 { _ = assembler.feed(seq: UInt32.max &- 40 &+ UInt32(offset), payload: segment) { _ in } }
            offset += size
            checkBounds(assembler, maximumLineLength: maximumLineLength, &checks)
            if capacity != 0 {
                checks.check(assembler.bufferCapacity == capacity, "assembler buffer grew from \(capacity) to \(assembler.bufferCapacity)")
            }
            capacity = assembler.bufferCapacity
        }
    }

    static func checkBounds(_ assembler: FTPLineAssembler, maximumLineLength: Int, _ checks: inout Invariants) {
        checks.check(assembler.bufferedByteCount <= maximumLineLength + 1,
                     "assembler holds \(assembler.bufferedByteCount) bytes, limit \(maximumLineLength + 1)")
    }

    /// The stream on an FTP control connection (port 21) in the pipeline, segments from either
    /// side as the seed says, then a data connection to each port the client could have named.
    static func pipeline(_ stream: UnsafeRawBufferPointer, sizes: [Int], options: UInt8, seed: UInt8,
                         maximumLineLength: Int, _ checks: inout Invariants) {
        let v6 = options & 0x02 != 0
        let client = Endpoint(ip: v6 ? "2001:db8::1" : "10.1.1.1", port: 40_000)
        let server = Endpoint(ip: v6 ? "2001:db8::2" : "10.1.1.2", port: 21)
        var control = TCPConversation(client: client, server: server)
        var frames = TraceBuilder()
        control.handshake(into: &frames)
        var rng = Xoshiro256StarStar(seed: UInt64(seed) | 0x200)
        var fromClient = options & 0x01 == 0
        var offset = 0
        for size in sizes {
            let payload = [UInt8](UnsafeRawBufferPointer(rebasing: stream[offset..<offset + size]))
            frames.append(control.segment(fromClient: fromClient, flags: [.psh, .ack], payload: payload))
            offset += size
            if rng.int(below: 4) == 0 { fromClient.toggle() }
        }
        // Data connections to the ports a well-formed announcement would most likely name.
        for port: UInt16 in [20, 1024, 50_000] {
            var data = TCPConversation(client: server.with(port: 20), server: client.with(port: port))
            data.handshake(into: &frames)
        }
        let policy = ALGEngine.Policy(rejectPrivilegedPorts: options & 0x04 != 0, maximumLineLength: maximumLineLength)
        let pipeline = DefaultPipeline(config: ConntrackConfig(maxConnections: 16),
                                       expectationLimits: ExpectationTable.Limits(maxExpectations: 8, perMasterLimit: 2),
                                       algPolicy: policy)
        let trace = frames.makeTrace(name: "fuzz ftp")
        TraceReplay(trace: trace).run(loop: 0, through: pipeline) { index, verdict in
            PipelineInvariants.check(verdict, index: index, &checks)
        }
        PipelineInvariants.check(pipeline, packets: trace.count, &checks)
    }
}

private let lineFeed: UInt8 = 0x0A
