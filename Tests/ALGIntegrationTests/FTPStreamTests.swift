import ApplicationGateways
import Conntrack
import Datapath
import PacketParsing
import Testing
import TraceIO
import TraceSynthesis

/// The FTP control stream as TCP delivers it: split lines, retransmissions, gaps.
@Suite("FTP control stream: segmentation, retransmission, gaps")
struct FTPStreamTests {
    static let client = Endpoint(ip: "10.1.1.1", port: 40_000)
    static let server = Endpoint(ip: "10.1.1.2", port: 21)
    static let listener = client.with(port: 50_000)
    static let portLine = Array("PORT 10,1,1,1,195,80\r\n".utf8)

    /// Chunk sizes the PORT line is cut into (one segment each).
    static let splits: [[Int]] = [
        [10, 12],                                           // 2 segments
        [5, 9, 8],                                          // 3 segments
        [21, 1],                                            // CR in the first, LF alone
        [20, 2],                                            // CR LF alone
        [Int](repeating: 1, count: portLine.count),         // byte by byte
    ]

    @Test(arguments: splits)
    func splitPortLineStillCreatesTheExpectation(chunks: [Int]) {
        #expect(chunks.reduce(0, +) == Self.portLine.count)
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        var at = 0
        var segments: [Int] = []
        for n in chunks {
            segments.append(ftp.raw(fromClient: true, Array(Self.portLine[at..<at + n]), into: &b))
            at += n
        }
        ftp.control.acknowledge(fromClient: false, into: &b)
        ftp.server("200 PORT command successful.\r\n", into: &b)
        let syn = dataConnection(from: Self.server.with(port: 20), to: Self.listener, into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)

        for s in segments { #expect(packets[s].verdict.state == [.tracked, .established], "segment \(s)") }
        #expect(pipeline.algs.stats.announced(.port) == 1)
        #expect(pipeline.algs.stats.ftpRejectedTotal == 0)
        #expect(pipeline.partition.expectations.stats.created == 1)
        // Created by the segment that completed the line.
        #expect(packets[syn].verdict == PacketVerdict(state: newRelated, connectionID: UInt64(syn), masterID: ftp.controlID))
    }

    /// The PORT segment sent twice: one expectation, no duplicate (the stream's sequence
    /// tracking drops the copy), and the copy is not +inv.
    @Test func retransmittedPortCreatesOneExpectation() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        let segment = ftp.control.segment(fromClient: true, flags: [.psh, .ack], payload: Self.portLine)
        b.append(segment)
        let original = b.count - 1
        b.append(segment)
        let copy = b.count - 1
        ftp.control.acknowledge(fromClient: false, into: &b)
        ftp.server("200 PORT command successful.\r\n", into: &b)
        let syn = dataConnection(from: Self.server.with(port: 20), to: Self.listener, into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)

        #expect(packets[original].verdict.state == [.tracked, .established])
        #expect(!packets[copy].verdict.state.contains(.invalid), "retransmission: \(packets[copy].verdict.state)")
        #expect(packets[copy].verdict.connectionID == ftp.controlID)
        #expect(pipeline.algs.stats.announced(.port) == 1)
        #expect(pipeline.algs.stats.expectationsAnnounced == 1)
        #expect(pipeline.partition.expectations.stats.created == 1)
        #expect(pipeline.partition.expectations.stats.duplicates == 0)
        #expect(packets[syn].verdict.state == newRelated)
    }

    /// A segment that overlaps what was seen: only its new bytes are parsed, so a PORT whose
    /// head was already sent still completes, once.
    @Test func overlappingRetransmissionCompletesTheLineOnce() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        let startSeq = ftp.control.clientNextSeq
        ftp.raw(fromClient: true, Array(Self.portLine[0..<10]), into: &b)
        // The whole line again from the same sequence number (a repacketised retransmission).
        b.append(PacketBuilder.tcp(from: Self.client, to: Self.server, flags: [.psh, .ack], seq: startSeq,
                                   ack: ftp.control.serverNextSeq, window: 64240, payload: Self.portLine))
        let overlap = b.count - 1
        let rest = ftp.control.segment(fromClient: true, flags: [.psh, .ack], payload: Array(Self.portLine[10...]))
        b.append(rest)  // and the tail as sent originally: a pure retransmission now
        let syn = dataConnection(from: Self.server.with(port: 20), to: Self.listener, into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(!packets[overlap].verdict.state.contains(.invalid))
        #expect(pipeline.algs.stats.announced(.port) == 1)
        #expect(pipeline.partition.expectations.stats.created == 1)
        #expect(pipeline.partition.expectations.stats.duplicates == 0)
        #expect(packets[syn].verdict.state == newRelated)
    }

    /// A segment after a gap (the one before it lost) is not parsed: no expectation. The
    /// stream resynchronises at the next line.
    @Test func segmentAfterGapIsNotParsed() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        _ = ftp.control.segment(fromClient: true, flags: [.psh, .ack], payload: Array("NOOP\r\n".utf8))  // lost
        let afterGap = ftp.raw(fromClient: true, Self.portLine, into: &b)
        ftp.control.acknowledge(fromClient: false, into: &b)
        let firstSyn = dataConnection(from: Self.server.with(port: 20), to: Self.listener, into: &b)
        let gapCreated = b.count
        // The next in-order line parses again.
        let listener2 = Self.client.with(port: 50_001)
        ftp.client("PORT \(commaForm(listener2))\r\n", into: &b)
        let secondSyn = dataConnection(from: Self.server.with(port: 20), to: listener2, into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)

        #expect(!packets[afterGap].verdict.state.contains(.invalid), "gap segment: \(packets[afterGap].verdict.state)")
        #expect(pipeline.algs.stats.ftpGaps == 1)
        #expect(packets[firstSyn].verdict.state == plainNew)
        #expect(relatedIndices(packets).allSatisfy { $0 >= gapCreated })
        #expect(pipeline.partition.expectations.stats.created == 1)
        #expect(pipeline.algs.stats.announced(.port) == 1)
        #expect(packets[secondSyn].verdict.state == newRelated)
    }
}
