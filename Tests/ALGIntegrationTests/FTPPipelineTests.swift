import ApplicationGateways
import Conntrack
import Datapath
import PacketParsing
import Testing
import TraceIO
import TraceSynthesis

/// Active FTP between 10.1.1.1 (client) and 10.1.1.2 (server) through the default pipeline.
@Suite("FTP through the default pipeline")
struct FTPPipelineTests {
    static let client = Endpoint(ip: "10.1.1.1", port: 40_000)
    static let server = Endpoint(ip: "10.1.1.2", port: 21)
    static let dataPort: UInt16 = 50_000  // 195,80

    /// The seed scenario: PORT, then the server connects from port 20 to the announced port.
    @Test func activeFTPDataConnectionIsRelatedToItsControl() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        let port = ftp.client("PORT 10,1,1,1,195,80\r\n", into: &b)
        ftp.server("200 PORT command successful.\r\n", into: &b)
        let syn = dataConnection(from: Self.server.with(port: 20), to: Self.client.with(port: Self.dataPort), into: &b)
        let end = b.count
        ftp.server("226 Transfer complete.\r\n", into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)

        // The control connection was committed with alg=ftp by the pipeline; its id is its SYN's index.
        #expect(ftp.controlID == 0)
        #expect(packets[0].verdict == PacketVerdict(state: plainNew, connectionID: 0))
        #expect(packets[port].verdict.state == [.tracked, .established])
        #expect(pipeline.algs.stats.announced(.port) == 1)
        #expect(pipeline.partition.expectations.stats.created == 1)
        // The data SYN: +trk+new+rel, its own id, master = the control connection.
        #expect(packets[syn].verdict == PacketVerdict(state: newRelated, connectionID: UInt64(syn), masterID: 0))
        // Every later packet of the data connection is related (both directions), and nothing else is.
        for i in (syn + 1)..<end {
            #expect(packets[i].verdict.state.isSuperset(of: [.tracked, .established, .related]), "packet \(i): \(packets[i].verdict.state)")
            #expect(packets[i].verdict.masterID == 0 && packets[i].verdict.connectionID == UInt64(syn))
        }
        #expect(relatedIndices(packets) == Array(syn..<end))
        #expect(pipeline.partition.expectations.isEmpty)
        #expect(pipeline.partition.expectations.stats.matched == 1)
        #expect(packets.allSatisfy { !$0.verdict.state.contains(.invalid) })
    }

    /// The same data connection without a PORT before it is a plain new connection.
    @Test func sameDataConnectionWithoutPortIsOnlyNew() {
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: Self.client, server: Self.server, into: &b)
        ftp.client("TYPE I\r\n", into: &b)
        ftp.server("200 Switching to Binary mode.\r\n", into: &b)
        let syn = dataConnection(from: Self.server.with(port: 20), to: Self.client.with(port: Self.dataPort), into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[syn].verdict == PacketVerdict(state: plainNew, connectionID: UInt64(syn)))
        #expect(relatedIndices(packets).isEmpty)
        #expect(pipeline.partition.expectations.stats.created == 0)
        #expect(pipeline.algs.stats.expectationsAnnounced == 0)
    }

    // MARK: - Every command and reply form, IPv4 and IPv6

    struct Form: CustomStringConvertible, Sendable {
        var name: String
        var v6: Bool
        /// Active: the client announces, the server connects from port 20.
        var active: Bool
        var mode: ApplicationGateways.FTPMode
        /// The announcing line (command or reply) for the listener.
        var line: @Sendable (Endpoint) -> String
        var description: String { name }
    }

    static let forms: [Form] = [
        Form(name: "PORT v4", v6: false, active: true, mode: .port) { "PORT \(commaForm($0))\r\n" },
        Form(name: "EPRT |1| v4", v6: false, active: true, mode: .eprt) { "EPRT |1|\($0.address)|\($0.port)|\r\n" },
        Form(name: "EPRT |2| v6", v6: true, active: true, mode: .eprt) { "EPRT |2|\($0.address)|\($0.port)|\r\n" },
        Form(name: "PASV 227 v4", v6: false, active: false, mode: .pasv) { "227 Entering Passive Mode (\(commaForm($0))).\r\n" },
        Form(name: "EPSV 229 v4", v6: false, active: false, mode: .epsv) { "229 Entering Extended Passive Mode (|||\($0.port)|)\r\n" },
        Form(name: "EPSV 229 v6", v6: true, active: false, mode: .epsv) { "229 Entering Extended Passive Mode (|||\($0.port)|)\r\n" },
        Form(name: "lower-case eprt with other delimiter v6", v6: true, active: true, mode: .eprt) { "eprt !2!\($0.address)!\($0.port)!\r\n" },
        Form(name: "227 without parentheses v4", v6: false, active: false, mode: .pasv) { "227 =\(commaForm($0))\r\n" },
    ]

    @Test(arguments: forms)
    func dataConnectionOfEachFormIsRelated(form: Form) {
        let client = form.v6 ? Endpoint(ip: "2001:db8:c1::1", port: 40_001) : Endpoint(ip: "10.1.1.1", port: 40_001)
        let server = form.v6 ? Endpoint(ip: "2001:db8:5::2", port: 21) : Endpoint(ip: "10.1.1.2", port: 21)
        let listener = form.active ? client.with(port: 50_123) : server.with(port: 30_456)
        let initiator = form.active ? server.with(port: 20) : client.with(port: 41_000)
        let pipeline = DefaultPipeline()
        var b = TraceBuilder()
        var ftp = FTPScript(client: client, server: server, into: &b)
        let announce: Int
        if form.active {
            announce = ftp.client(form.line(listener), into: &b)
            ftp.server("200 OK.\r\n", into: &b)
        } else {
            ftp.client(form.mode == .pasv ? "PASV\r\n" : "EPSV\r\n", into: &b)
            announce = ftp.server(form.line(listener), into: &b)
        }
        let syn = dataConnection(from: initiator, to: listener, into: &b)
        let end = b.count
        ftp.client("QUIT\r\n", into: &b)
        let packets = replay(b.makeTrace(), through: pipeline)

        #expect(!packets[announce].verdict.state.contains(.invalid), "\(form): \(packets[announce].verdict.state)")
        #expect(pipeline.algs.stats.announced(form.mode) == 1)
        #expect(pipeline.algs.stats.ftpRejectedTotal == 0)
        #expect(pipeline.partition.expectations.stats.created == 1)
        #expect(packets[syn].verdict == PacketVerdict(state: newRelated, connectionID: UInt64(syn), masterID: ftp.controlID),
                "\(form): SYN \(packets[syn].verdict.state) master \(packets[syn].verdict.masterID)")
        #expect(relatedIndices(packets) == Array(syn..<end), "\(form)")
        #expect(pipeline.partition.expectations.isEmpty)
    }

    // MARK: - Committed sample traces

    struct SampleTrace: CustomStringConvertible, Sendable {
        var file: String
        /// Data connections (FTP) plus TFTP transfers, from traces/README.md.
        var relatedConnections: Int
        var ftpModes: [ApplicationGateways.FTPMode: UInt64]
        var tftpRequests: UInt64
        var description: String { file }
    }

    static let samples: [SampleTrace] = [
        SampleTrace(file: "ftp-active-v4.pcap", relatedConnections: 4, ftpModes: [.port: 2, .eprt: 2], tftpRequests: 0),
        SampleTrace(file: "ftp-passive-v4.pcap", relatedConnections: 4, ftpModes: [.pasv: 2, .epsv: 2], tftpRequests: 0),
        SampleTrace(file: "ftp-ipv6.pcap", relatedConnections: 4, ftpModes: [.eprt: 2, .epsv: 2], tftpRequests: 0),
        SampleTrace(file: "tftp.pcap", relatedConnections: 8, ftpModes: [:], tftpRequests: 8),
        // 6 FTP sessions (PORT, PASV, EPRT |1|, EPRT |2|, EPSV v4, EPSV v6) + 4 TFTP transfers.
        SampleTrace(file: "sample-mixed.pcap", relatedConnections: 10,
                    ftpModes: [.port: 1, .pasv: 1, .eprt: 2, .epsv: 2], tftpRequests: 4),
    ]

    @Test(arguments: samples)
    func committedSampleTrace(sample: SampleTrace) throws {
        let trace = try TraceLoader.loadComplete(path: try sampleTracePath(sample.file))
        let pipeline = DefaultPipeline()
        let packets = replay(trace, through: pipeline)
        let firsts = newRelatedIndices(packets)
        #expect(firsts.count == sample.relatedConnections, "\(sample): +new+rel first packets \(firsts.count)")
        for i in firsts {
            let master = packets[i].verdict.masterID
            #expect(master < UInt64(i), "\(sample): packet \(i) master \(master)")
            // The master is a committed control connection: to TCP port 21 or UDP port 69.
            if master < UInt64(packets.count), let key = packets[Int(master)].key {
                #expect(DefaultPipeline.alg(for: key) != .none, "\(sample): master \(master) is \(key)")
                #expect(packets[Int(master)].verdict.connectionID == master)
            }
        }
        // Every +rel packet belongs to one of those data connections, and all of theirs are +rel.
        let ids = Set(firsts.map(UInt64.init))
        for (i, p) in packets.enumerated() {
            if ids.contains(p.verdict.connectionID) {
                #expect(p.verdict.state.contains(.related), "\(sample): packet \(i) of a related connection is \(p.verdict.state)")
            } else {
                #expect(!p.verdict.state.contains(.related), "\(sample): stray +rel packet \(i)")
            }
        }
        let stats = pipeline.algs.stats
        for mode in ApplicationGateways.FTPMode.allCases {
            #expect(stats.announced(mode) == sample.ftpModes[mode, default: 0], "\(sample): \(mode.name)")
        }
        #expect(stats.tftpRequests == sample.tftpRequests)
        #expect(stats.ftpRejectedTotal == 0)
        #expect(pipeline.partition.expectations.stats.created == UInt64(sample.relatedConnections))
        #expect(pipeline.partition.expectations.stats.matched == UInt64(sample.relatedConnections))
        #expect(packets.allSatisfy { !$0.verdict.state.contains(.invalid) })
    }
}
