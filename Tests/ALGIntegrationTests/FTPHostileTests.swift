import ApplicationGateways
import Conntrack
import Datapath
import PacketParsing
import Testing
import TraceIO
import TraceSynthesis

/// Hostile or broken announcements through the pipeline: each is refused (+trk+est+inv, its own
/// reject counter), creates no expectation, and the data connection it asked for is only +new.
@Suite("FTP hostile announcements")
struct FTPHostileTests {
    static let client4 = Endpoint(ip: "10.1.1.1", port: 40_000)
    static let server4 = Endpoint(ip: "10.1.1.2", port: 21)
    static let client6 = Endpoint(ip: "2001:db8:c1::1", port: 40_000)
    static let server6 = Endpoint(ip: "2001:db8:5::2", port: 21)

    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var v6 = false
        var fromClient = true
        var line: [UInt8]
        var reason: FTPRejectReason
        /// The data connection the line asked for, if it could be opened at all: initiator, listener.
        var data: (initiator: Endpoint, listener: Endpoint)?
        var policy = ALGEngine.Policy()
        var description: String { name }
    }

    static func text(_ s: String) -> [UInt8] { Array(s.utf8) }

    static let cases: [Case] = [
        Case(name: "PORT bounce to a foreign address", line: text("PORT 10,9,9,9,195,80\r\n"),
             reason: .addressNotControlPeer,
             data: (server4.with(port: 20), Endpoint(ip: "10.9.9.9", port: 50_000))),
        Case(name: "227 with a foreign address", fromClient: false,
             line: text("227 Entering Passive Mode (10,9,9,9,117,48).\r\n"), reason: .addressNotControlPeer,
             data: (client4.with(port: 41_000), Endpoint(ip: "10.9.9.9", port: 30_000))),
        Case(name: "EPRT |1| bounce", line: text("EPRT |1|10.9.9.9|50000|\r\n"), reason: .addressNotControlPeer,
             data: (server4.with(port: 20), Endpoint(ip: "10.9.9.9", port: 50_000))),
        Case(name: "EPRT |2| bounce over IPv6", v6: true, line: text("EPRT |2|2001:db8:66::9|50000|\r\n"),
             reason: .addressNotControlPeer,
             data: (server6.with(port: 20), Endpoint(ip: "2001:db8:66::9", port: 50_000))),
        Case(name: "PORT to port 0", line: text("PORT 10,1,1,1,0,0\r\n"), reason: .portZero),
        Case(name: "EPSV to port 0", fromClient: false, line: text("229 Entering Extended Passive Mode (|||0|)\r\n"),
             reason: .portZero),
        Case(name: "PORT octet > 255", line: text("PORT 10,1,1,256,195,80\r\n"), reason: .octetOutOfRange,
             data: (server4.with(port: 20), client4.with(port: 50_000))),
        Case(name: "PORT port byte > 255", line: text("PORT 10,1,1,1,300,80\r\n"), reason: .portByteOutOfRange),
        Case(name: "PORT overflowing number", line: text("PORT 10,1,1,1,99999999999999999999,80\r\n"),
             reason: .numericOverflow),
        Case(name: "EPRT port > 65535", line: text("EPRT |1|10.1.1.1|70000|\r\n"), reason: .portOutOfRange),
        Case(name: "EPRT missing final delimiter", line: text("EPRT |1|10.1.1.1|50000\r\n"), reason: .missingDelimiter,
             data: (server4.with(port: 20), client4.with(port: 50_000))),
        Case(name: "EPRT missing address delimiter", line: text("EPRT |1|10.1.1.1\r\n"), reason: .missingDelimiter),
        Case(name: "EPRT mismatched delimiter", line: text("EPRT |1|10.1.1.1|50000!\r\n"), reason: .mismatchedDelimiter),
        Case(name: "PORT with a non-ASCII byte", line: text("PORT 10,1,1,1,195,") + [0xC3, 0xA9] + text("\r\n"),
             reason: .nonASCIIByte),
        Case(name: "227 with a non-ASCII byte in the address", fromClient: false,
             line: text("227 Entering Passive Mode (10,1,1,2,117,") + [0xB0] + text(").\r\n"), reason: .nonASCIIByte),
        Case(name: "PORT with a control byte", line: text("PORT 10,1,1,1,\u{1}195,80\r\n"), reason: .controlByte),
        Case(name: "EPRT |2| on an IPv4 control connection", line: text("EPRT |2|::ffff:10.1.1.1|50000|\r\n"),
             reason: .familyMismatch, data: (server4.with(port: 20), client4.with(port: 50_000))),
        Case(name: "EPRT |1| on an IPv6 control connection", v6: true, line: text("EPRT |1|10.1.1.1|50000|\r\n"),
             reason: .familyMismatch),
        Case(name: "overlong command line", line: text("PORT 10,1,1,1,195,80" + String(repeating: " ", count: 300) + "x\r\n"),
             reason: .lineTooLong, data: (server4.with(port: 20), client4.with(port: 50_000))),
        Case(name: "PORT to port 80 with --reject-privileged-ports", line: text("PORT 10,1,1,1,0,80\r\n"),
             reason: .privilegedPort, data: (server4.with(port: 20), client4.with(port: 80)),
             policy: ALGEngine.Policy(rejectPrivilegedPorts: true)),
        Case(name: "227 to port 21 with --reject-privileged-ports", fromClient: false,
             line: text("227 Entering Passive Mode (10,1,1,2,0,21).\r\n"), reason: .privilegedPort,
             policy: ALGEngine.Policy(rejectPrivilegedPorts: true)),
    ]

    @Test(arguments: cases)
    func refusedAnnouncement(c: Case) {
        let client = c.v6 ? Self.client6 : Self.client4, server = c.v6 ? Self.server6 : Self.server4
        let pipeline = DefaultPipeline(algPolicy: c.policy)
        var b = TraceBuilder()
        var ftp = FTPScript(client: client, server: server, into: &b)
        if !c.fromClient { ftp.client("PASV\r\n", into: &b) }
        let announce = ftp.raw(fromClient: c.fromClient, c.line, into: &b)
        ftp.control.acknowledge(fromClient: !c.fromClient, into: &b)
        var syn: Int?
        if let (initiator, listener) = c.data { syn = dataConnection(from: initiator, to: listener, into: &b) }
        // The control connection carries on normally afterwards.
        let after = ftp.client("NOOP\r\n", into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)

        var flags: CTState = [.tracked, .established, .invalid]
        if !c.fromClient { flags.insert(.reply) }
        #expect(packets[announce].verdict.state == flags, "\(c): \(packets[announce].verdict.state)")
        #expect(packets[announce].verdict.connectionID == ftp.controlID)
        let stats = pipeline.algs.stats
        #expect(stats.rejected(c.reason) == 1, "\(c): \(c.reason.name) = \(stats.rejected(c.reason)); all \(stats.ftpRejected)")
        #expect(stats.ftpRejectedTotal == 1, "\(c): \(stats.ftpRejected)")
        #expect(stats.expectationsAnnounced == 0)
        #expect(pipeline.partition.expectations.stats.created == 0)
        #expect(pipeline.partition.expectations.isEmpty)
        #expect(pipeline.partition.stats.invalidByReason[Int(InvalidReason.algRejected.rawValue)] == 1)
        if let syn {
            #expect(packets[syn].verdict == PacketVerdict(state: plainNew, connectionID: UInt64(syn)), "\(c): data SYN \(packets[syn].verdict.state)")
        }
        #expect(relatedIndices(packets).isEmpty)
        #expect(packets[after].verdict.state == [.tracked, .established])
    }

    /// The same line with the default policy (control for the privileged-port case): accepted.
    @Test func privilegedPortAcceptedByDefault() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client4, server: Self.server4, into: &b)
        let announce = ftp.client("PORT 10,1,1,1,0,80\r\n", into: &b)
        let syn = dataConnection(from: Self.server4.with(port: 20), to: Self.client4.with(port: 80), into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[announce].verdict.state == [.tracked, .established])
        #expect(pipeline.algs.stats.ftpRejectedTotal == 0)
        #expect(packets[syn].verdict.state == newRelated)
    }

    /// "227 Logout." (pure-ftpd) carries no address: not +inv, changes nothing.
    @Test func pasvReplyWithoutAddressChangesNothing() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client4, server: Self.server4, into: &b)
        ftp.client("PASV\r\n", into: &b)
        let reply = ftp.server("227 Logout.\r\n", into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[reply].verdict.state == [.tracked, .established, .reply])
        #expect(pipeline.algs.stats.ftpRejectedTotal == 0)
        #expect(pipeline.algs.stats.ftpAnnouncements.allSatisfy { $0 == 0 })
        #expect(pipeline.partition.expectations.stats.created == 0)
        #expect(packets.allSatisfy { !$0.verdict.state.contains(.invalid) })
    }

    /// Sends one client line as raw segments of at most 100 bytes; their trace indices.
    static func clientLine(_ line: String, in100ByteSegments ftp: inout FTPScript, into b: inout TraceBuilder) -> [Int] {
        let bytes = Array(line.utf8)
        return stride(from: 0, to: bytes.count, by: 100).map { start in
            ftp.raw(fromClient: true, Array(bytes[start..<min(start + 100, bytes.count)]), into: &b)
        }
    }

    /// A control connection may carry long lines the helper has no interest in (a long RETR
    /// path, binary bytes on a port that a policy commits with alg=ftp): skipped, never +inv,
    /// and the announcement after them still works.
    @Test func overlongLinesThatCannotAnnounceAreIgnored() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client4, server: Self.server4, into: &b)
        let segments = Self.clientLine("RETR /" + String(repeating: "d/", count: 200) + "file\r\n",
                                       in100ByteSegments: &ftp, into: &b)
        ftp.control.acknowledge(fromClient: false, into: &b)
        let binary = ftp.raw(fromClient: false, [UInt8](repeating: 0x41, count: 400), into: &b)
        ftp.control.acknowledge(fromClient: true, into: &b)
        _ = ftp.client("PORT 10,1,1,1,195,81\r\n", into: &b)
        let syn = dataConnection(from: Self.server4.with(port: 20), to: Self.client4.with(port: 50_001), into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)

        #expect(pipeline.algs.stats.ftpRejectedTotal == 0)
        #expect((segments + [binary]).allSatisfy { !packets[$0].verdict.state.contains(.invalid) })
        #expect(packets[syn].verdict.state == [.tracked, .new, .related])
    }

    /// An overlong line split across segments is refused once; the next line parses normally.
    @Test func overlongLineAcrossSegmentsThenValidPort() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client4, server: Self.server4, into: &b)
        let segments = Self.clientLine("PORT 10,1,1,1,195,80" + String(repeating: "9", count: 280) + "\r\n",
                                       in100ByteSegments: &ftp, into: &b)
        ftp.control.acknowledge(fromClient: false, into: &b)
        let port = ftp.client("PORT 10,1,1,1,195,81\r\n", into: &b)
        let refusedSyn = dataConnection(from: Self.server4.with(port: 20), to: Self.client4.with(port: 50_000), into: &b)
        let syn = dataConnection(from: Self.server4.with(port: 20), to: Self.client4.with(port: 50_001), into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)

        #expect(pipeline.algs.stats.rejected(.lineTooLong) == 1)
        #expect(pipeline.algs.stats.ftpRejectedTotal == 1)
        // The segment that made the line too long is the refused one; exactly one is +inv.
        #expect(segments.filter { packets[$0].verdict.state.contains(.invalid) }.count == 1)
        #expect(packets[port].verdict.state == [.tracked, .established])
        #expect(pipeline.partition.expectations.stats.created == 1)
        #expect(packets[refusedSyn].verdict.state == plainNew)
        #expect(packets[syn].verdict.state == newRelated)
    }

    /// A refused announcement is +inv, so the datapath drops it and the sender's TCP sends the
    /// same segment again. The copy carries the same bounce: it must be refused too (OVS parses
    /// every packet and marks the copy +inv again), or a retransmission gets the bounce through.
    @Test func retransmittedBounceIsStillRefused() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client4, server: Self.server4, into: &b)
        let segment = ftp.control.segment(fromClient: true, flags: [.psh, .ack], payload: Array("PORT 10,9,9,9,195,80\r\n".utf8))
        b.append(segment)
        let original = b.count - 1
        b.append(segment)  // the retransmission of the dropped segment
        let copy = b.count - 1
        ftp.control.acknowledge(fromClient: false, into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[original].verdict.state == [.tracked, .established, .invalid])
        #expect(pipeline.partition.expectations.stats.created == 0)
        #expect(packets[copy].verdict.state == [.tracked, .established, .invalid], "retransmitted bounce: \(packets[copy].verdict.state)")
        #expect(pipeline.algs.stats.rejected(.addressNotControlPeer) == 2)
    }

    /// A refused line does not poison the control connection: a later valid PORT works.
    @Test func bounceThenValidPort() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client4, server: Self.server4, into: &b)
        let bounce = ftp.client("PORT 10,9,9,9,195,80\r\n", into: &b)
        ftp.server("500 Illegal PORT command.\r\n", into: &b)
        let ok = ftp.client("PORT 10,1,1,1,195,80\r\n", into: &b)
        let foreign = dataConnection(from: Self.server4.with(port: 20), to: Endpoint(ip: "10.9.9.9", port: 50_000), into: &b)
        let syn = dataConnection(from: Self.server4.with(port: 20), to: Self.client4.with(port: 50_000), into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[bounce].verdict.state.contains(.invalid))
        #expect(!packets[ok].verdict.state.contains(.invalid))
        #expect(packets[foreign].verdict.state == plainNew)
        #expect(packets[syn].verdict == PacketVerdict(state: newRelated, connectionID: UInt64(syn), masterID: ftp.controlID))
        #expect(pipeline.algs.stats.rejected(.addressNotControlPeer) == 1)
    }
}
