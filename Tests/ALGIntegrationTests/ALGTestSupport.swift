import ApplicationGateways
import Conntrack
import Datapath
import Foundation
import PacketParsing
import Testing
import TestSupport
import TraceIO
import TraceSynthesis

/// The package root (see TestSupport).
func packageRoot() -> URL { TestPaths.packageRoot }

/// `../shared/traces` next to the package root; records an issue naming the path when missing.
func sharedTracesDirectory() throws -> URL { try TestPaths.sharedTraces() }

/// A committed sample trace under `traces/`; records an issue naming the path when missing.
func sampleTracePath(_ name: String) throws -> String {
    let path = packageRoot().appendingPathComponent("traces").appendingPathComponent(name).path
    guard FileManager.default.fileExists(atPath: path) else {
        Issue.record("sample trace missing: expected it at \(path)")
        throw MissingFixture(path: path)
    }
    return path
}

/// One packet's verdict plus its flow key (nil when the frame did not parse as IP).
struct ReplayedPacket {
    var verdict: PacketVerdict
    var key: FlowKey?
    var time: UInt64
}

/// Replays `trace` through `pipeline` with `TraceReplay` (one loop), keeping every verdict and
/// each packet's flow key. `after` runs after each packet, with its index.
func replay(_ trace: Trace, through pipeline: DefaultPipeline,
            after: (Int, PacketVerdict) -> Void = { _, _ in }) -> [ReplayedPacket] {
    var out: [ReplayedPacket] = []
    out.reserveCapacity(trace.count)
    TraceReplay(trace: trace).run(loop: 0, through: pipeline) { index, verdict in
        let record = trace.records[index]
        var packet = ParsedPacket()
        let outcome = PacketParser(linkType: record.linkType)
            .parse(trace.frame(index), wireLength: Int(record.wireLength), into: &packet)
        out.append(ReplayedPacket(verdict: verdict, key: outcome == .ok ? packet.key : nil,
                                  time: record.timestampNanos))
        after(index, verdict)
    }
    return out
}

/// Builds a trace with `build` (1 µs between frames, gaps via `advanceClock`) and replays it.
func replayScript(_ pipeline: DefaultPipeline = DefaultPipeline(),
                  _ build: (inout TraceBuilder) -> Void) -> [ReplayedPacket] {
    var builder = TraceBuilder()
    build(&builder)
    return replay(builder.makeTrace(), through: pipeline)
}

extension ALGStats {
    func rejected(_ reason: FTPRejectReason) -> UInt64 { ftpRejected[Int(reason.rawValue)] }
    func announced(_ mode: ApplicationGateways.FTPMode) -> UInt64 { ftpAnnouncements[Int(mode.rawValue)] }
}

/// The flags of a new related connection's first packet and of a plain new one.
let newRelated: CTState = [.tracked, .new, .related]
let plainNew: CTState = [.tracked, .new]

/// An FTP control session scripted on a `TraceBuilder`: handshake, banner, login, then whatever
/// the test sends. Keeps the control conversation so tests can craft segments by hand.
struct FTPScript {
    var control: TCPConversation
    /// Trace index of the control connection's SYN, i.e. its connection id.
    var controlID: UInt64

    init(client: Endpoint, server: Endpoint, into b: inout TraceBuilder, clientISN: UInt32 = 1_000) {
        control = TCPConversation(client: client, server: server, clientISN: clientISN)
        controlID = UInt64(b.count)
        control.handshake(into: &b)
        control.send(fromClient: false, text: "220 ready.\r\n", into: &b)
        control.send(fromClient: true, text: "USER anonymous\r\n", into: &b)
        control.send(fromClient: false, text: "331 Password.\r\n", into: &b)
        control.send(fromClient: true, text: "PASS x@y\r\n", into: &b)
        control.send(fromClient: false, text: "230 Logged in.\r\n", into: &b)
    }

    /// Sends one line from the client, acked by the server; returns the trace index of the
    /// (last) data segment.
    @discardableResult
    mutating func client(_ text: String, into b: inout TraceBuilder) -> Int {
        control.send(fromClient: true, text: text, acked: true, into: &b)
        return b.count - 2
    }

    @discardableResult
    mutating func server(_ text: String, into b: inout TraceBuilder) -> Int {
        control.send(fromClient: false, text: text, acked: true, into: &b)
        return b.count - 2
    }

    /// Sends raw bytes from one side as one segment (no ack); returns its trace index.
    @discardableResult
    mutating func raw(fromClient: Bool, _ bytes: [UInt8], into b: inout TraceBuilder) -> Int {
        b.append(control.segment(fromClient: fromClient, flags: [.psh, .ack], payload: bytes))
        return b.count - 1
    }
}

/// Opens a data connection (handshake + a little data + close); returns the SYN's trace index.
@discardableResult
func dataConnection(from initiator: Endpoint, to listener: Endpoint, into b: inout TraceBuilder,
                    payload: Int = 100) -> Int {
    var data = TCPConversation(client: initiator, server: listener, clientISN: 77_000, serverISN: 88_000)
    let syn = b.count
    data.handshake(into: &b)
    data.send(fromClient: true, payload: [UInt8](repeating: 0x41, count: payload), acked: true, into: &b)
    data.close(into: &b)
    return syn
}

/// "10,1,1,1,p1,p2" for a PORT / 227 line.
func commaForm(_ e: Endpoint) -> String {
    let v = e.address.v4!
    return "\(v >> 24),\((v >> 16) & 0xff),\((v >> 8) & 0xff),\(v & 0xff),\(e.port >> 8),\(e.port & 0xff)"
}

/// Indices of packets whose state has `.related`.
func relatedIndices(_ packets: [ReplayedPacket]) -> [Int] {
    packets.indices.filter { packets[$0].verdict.state.contains(.related) }
}

/// Indices of first packets that are +trk+new+rel.
func newRelatedIndices(_ packets: [ReplayedPacket]) -> [Int] {
    packets.indices.filter { packets[$0].verdict.state == newRelated }
}
