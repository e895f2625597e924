import ApplicationGateways
import Conntrack
import Datapath
import PacketParsing
import Testing
import TraceIO
import TraceSynthesis

/// TFTP through the default pipeline: requests to UDP port 69 (committed with alg=tftp) expect
/// the server's answer from any port back to the client's port.
@Suite("TFTP through the default pipeline")
struct TFTPPipelineTests {
    static func request(write: Bool, file: String = "boot.img") -> [UInt8] {
        [0, write ? 2 : 1] + Array(file.utf8) + [0] + Array("octet".utf8) + [0]
    }
    static func dataBlock(_ n: UInt16, _ bytes: Int) -> [UInt8] { [0, 3, UInt8(n >> 8), UInt8(n & 0xff)] + [UInt8](repeating: 7, count: bytes) }
    static func ack(_ n: UInt16) -> [UInt8] { [0, 4, UInt8(n >> 8), UInt8(n & 0xff)] }

    struct Setup: CustomStringConvertible, Sendable {
        var write: Bool
        var v6: Bool
        var description: String { "\(write ? "WRQ" : "RRQ") \(v6 ? "v6" : "v4")" }
    }

    static let setups = [Setup(write: false, v6: false), Setup(write: true, v6: false),
                         Setup(write: false, v6: true), Setup(write: true, v6: true)]

    @Test(arguments: setups)
    func replyFromNewPortIsRelated(setup: Setup) {
        let client = setup.v6 ? Endpoint(ip: "2001:db8:c1::7", port: 3_000) : Endpoint(ip: "10.2.2.1", port: 3_000)
        let server = setup.v6 ? Endpoint(ip: "2001:db8:5::9", port: 69) : Endpoint(ip: "10.2.2.2", port: 69)
        let transfer = server.with(port: 45_000)
        var b = TraceBuilder()
        b.append(PacketBuilder.udp(from: client, to: server, payload: Self.request(write: setup.write)))
        let reply = b.count
        if setup.write {
            b.append(PacketBuilder.udp(from: transfer, to: client, payload: Self.ack(0)))
            b.append(PacketBuilder.udp(from: client, to: transfer, payload: Self.dataBlock(1, 100)))
            b.append(PacketBuilder.udp(from: transfer, to: client, payload: Self.ack(1)))
        } else {
            b.append(PacketBuilder.udp(from: transfer, to: client, payload: Self.dataBlock(1, 100)))
            b.append(PacketBuilder.udp(from: client, to: transfer, payload: Self.ack(1)))
        }
        let end = b.count
        let pipeline = DefaultPipeline()
        let packets = replay(b.makeTrace(), through: pipeline)

        #expect(packets[0].verdict == PacketVerdict(state: plainNew, connectionID: 0))
        #expect(packets[reply].verdict == PacketVerdict(state: newRelated, connectionID: UInt64(reply), masterID: 0),
                "\(setup): \(packets[reply].verdict.state)")
        for i in (reply + 1)..<end {
            #expect(packets[i].verdict.state.isSuperset(of: [.tracked, .established, .related]), "\(setup) packet \(i): \(packets[i].verdict.state)")
            #expect(packets[i].verdict.connectionID == UInt64(reply) && packets[i].verdict.masterID == 0)
        }
        #expect(pipeline.algs.stats.tftpRequests == 1)
        #expect(pipeline.partition.expectations.stats.created == 1)
        #expect(pipeline.partition.expectations.stats.matched == 1)
    }

    /// A second RRQ from another client port gets its own expectation and its own master.
    @Test func secondRequestFromAnotherPortHasItsOwnExpectation() {
        let server = Endpoint(ip: "10.2.2.2", port: 69)
        let c1 = Endpoint(ip: "10.2.2.1", port: 3_000), c2 = c1.with(port: 3_001)
        var b = TraceBuilder()
        b.append(PacketBuilder.udp(from: c1, to: server, payload: Self.request(write: false, file: "a")))
        b.append(PacketBuilder.udp(from: c2, to: server, payload: Self.request(write: false, file: "b")))
        b.append(PacketBuilder.udp(from: server.with(port: 45_002), to: c2, payload: Self.dataBlock(1, 10)))
        b.append(PacketBuilder.udp(from: server.with(port: 45_001), to: c1, payload: Self.dataBlock(1, 10)))
        // A third answer to c1 from yet another port: c1's expectation is used up.
        b.append(PacketBuilder.udp(from: server.with(port: 45_003), to: c1, payload: Self.dataBlock(1, 10)))
        let pipeline = DefaultPipeline()
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(packets[0].verdict.connectionID == 0 && packets[1].verdict.connectionID == 1)
        #expect(pipeline.partition.expectations.stats.created == 2)
        #expect(pipeline.partition.expectations.stats.clashes == 0 && pipeline.partition.expectations.stats.duplicates == 0)
        #expect(packets[2].verdict == PacketVerdict(state: newRelated, connectionID: 2, masterID: 1))
        #expect(packets[3].verdict == PacketVerdict(state: newRelated, connectionID: 3, masterID: 0))
        #expect(packets[4].verdict == PacketVerdict(state: plainNew, connectionID: 4))
        #expect(pipeline.algs.stats.tftpRequests == 2)
    }

    /// Not a request (an ERROR packet to port 69) creates nothing.
    @Test func nonRequestToPort69CreatesNothing() {
        let client = Endpoint(ip: "10.2.2.1", port: 3_000), server = Endpoint(ip: "10.2.2.2", port: 69)
        var b = TraceBuilder()
        b.append(PacketBuilder.udp(from: client, to: server, payload: [0, 5, 0, 1] + Array("x".utf8) + [0]))
        b.append(PacketBuilder.udp(from: server.with(port: 45_000), to: client, payload: Self.dataBlock(1, 10)))
        let pipeline = DefaultPipeline()
        let packets = replay(b.makeTrace(), through: pipeline)
        #expect(pipeline.partition.expectations.stats.created == 0)
        #expect(packets[1].verdict.state == plainNew)
        #expect(packets.allSatisfy { !$0.verdict.state.contains(.invalid) })
    }
}
