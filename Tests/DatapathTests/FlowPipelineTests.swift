import Conntrack
import Datapath
import FlowTable
import PacketParsing
import Testing
import TraceIO
import TraceSynthesis

/// What one partition does with a flow table's ct calls: frames conntrack cannot track, the
/// precheck and the ALG once per packet, `--no-alg`, and the action column.
@Suite struct FlowPipelineTests {
    func run(_ policyText: String, _ frames: [[UInt8]], core: DefaultPipeline = DefaultPipeline(),
             inPorts: String = "1=10.1.1.1,2=10.1.1.2") throws -> (FlowPipeline, [PacketVerdict]) {
        var b = TraceBuilder()
        for frame in frames { b.append(frame) }
        let pipeline = FlowPipeline(policy: try FlowPolicy(text: policyText, inPorts: try InPortMap.parse(inPorts)), core: core)
        var verdicts: [PacketVerdict] = []
        TraceReplay(trace: b.makeTrace()).run(loop: 0, through: pipeline) { _, verdict in verdicts.append(verdict) }
        return (pipeline, verdicts)
    }

    let client = Endpoint(ip: "10.1.1.1", port: 40_000)
    let server = Endpoint(ip: "10.1.1.2", port: 21)

    @Test func framesConntrackCannotTrackAreInvalidWithoutTouchingTheTable() throws {
        let arp = PacketBuilder.arp(from: client.address, to: server.address)
        var cut = PacketBuilder.tcp(from: client, to: server, flags: .syn)
        cut.removeLast(30)
        let (pipeline, verdicts) = try run("actions=ct(commit,zone=4),ct(zone=4,table=1)\ntable=1,ct_state=+inv,actions=9",
                                           [arp, cut, Array(cut.prefix(8))])
        #expect(verdicts[0].state == [.tracked, .invalid] && verdicts[0].zone == 4 && verdicts[0].action.description == "output:9")
        #expect(verdicts[1].state == [.tracked, .invalid] && verdicts[1].action.description == "output:9")
        // Malformed below IP: no key, dropped before the table, never through ct.
        #expect(verdicts[2].state.isEmpty && verdicts[2].line(index: 2) == "2\t-\t0\t-\t-\tdrop")
        let invalid = pipeline.core.partition.stats.invalidByReason
        #expect(invalid[Int(InvalidReason.notIP.rawValue)] == 1 && invalid[Int(InvalidReason.malformedHeader.rawValue)] == 1)
        #expect(pipeline.core.partition.stats.committed == 0)
        #expect(pipeline.core.counters.forwarded == 2 && pipeline.core.counters.dropped == 1)
    }

    @Test func aPacketThroughCtThreeTimesIsPrecheckedAndInspectedOnce() throws {
        var control = TCPConversation(client: client, server: server)
        var frames: [[UInt8]] = []
        control.handshake(into: &frames)
        control.send(fromClient: true, text: "PORT 10,1,1,1,195,80\r\n", into: &frames)
        // A corrupted checksum on the last frame: counted once although it goes through ct thrice.
        frames[frames.count - 1][14 + 20 + 16] ^= 0xFF  // the TCP checksum field
        let policy = """
            ct_state=-trk,tcp,actions=ct(commit,alg=ftp),ct(zone=0),ct(recirc)
            ct_state=+trk,actions=normal
            """
        let (pipeline, verdicts) = try run(policy, frames)
        #expect(verdicts.map(\.action.description) == ["normal", "normal", "normal", "normal"])
        #expect(verdicts[3].state == [.tracked, .established])
        #expect(pipeline.core.partition.stats.badChecksums == 1)
        #expect(pipeline.core.algs.stats.ftpAnnouncements.reduce(0, +) == 1)
        #expect(pipeline.core.partition.expectations.stats.created == 1)
        // Counted once per packet, with its last verdict.
        #expect(pipeline.core.partition.stats.packetsByState.reduce(0, +) == 4)
    }

    @Test func aRefusalAndATFTPRequestAreSeenOnceThroughSeveralCalls() throws {
        var control = TCPConversation(client: client, server: server)
        var frames: [[UInt8]] = []
        control.handshake(into: &frames)
        control.send(fromClient: true, text: "PORT 192,0,2,7,195,80\r\n", into: &frames)  // a bounce: refused
        let request: [UInt8] = [0, 1] + Array("boot.img".utf8) + [0] + Array("octet".utf8) + [0]
        frames.append(PacketBuilder.udp(from: client, to: server.with(port: 69), payload: request))
        let policy = """
            ct_state=-trk,tcp,actions=ct(commit,alg=ftp),ct(zone=0),ct(recirc)
            ct_state=-trk,udp,actions=ct(commit,alg=tftp),ct(zone=0),ct(recirc)
            ct_state=+trk-inv,actions=normal
            ct_state=+trk+inv,actions=drop
            """
        let (pipeline, verdicts) = try run(policy, frames)
        #expect(verdicts[3].state == [.tracked, .established, .invalid] && verdicts[3].action.isDrop)
        #expect(pipeline.core.algs.stats.ftpRejected.reduce(0, +) == 1)
        #expect(verdicts[4].state == [.tracked, .established] && verdicts[4].action.description == "normal")
        #expect(pipeline.core.partition.expectations.stats.created == 1)
        #expect(pipeline.core.partition.expectations.stats.duplicates == 0)
        #expect(pipeline.core.algs.stats.tftpRequests == 1)
    }

    @Test func withoutALGsNothingIsAnnounced() throws {
        var control = TCPConversation(client: client, server: server)
        var frames: [[UInt8]] = []
        control.handshake(into: &frames)
        control.send(fromClient: true, text: "PORT 10,1,1,1,195,80\r\n", into: &frames)
        let (pipeline, _) = try run("tcp,actions=ct(commit,alg=ftp),1", frames,
                                    core: DefaultPipeline(algsEnabled: false))
        #expect(pipeline.core.partition.expectations.stats.created == 0)
        #expect(pipeline.core.partition.dumpConnections().allSatisfy { !$0.contains("helper=") })
    }

    @Test func actionsAsVerdictFilesPrintThem() throws {
        let syn = PacketBuilder.tcp(from: client, to: server, flags: .syn)
        let policies: [(String, String)] = [
            ("actions=1,2", "output:1,2"), ("actions=normal", "normal"), ("actions=drop", "drop"),
            ("actions=3,normal,3", "output:3,3,normal"), ("actions=1,2,3,4,5,6,7,8,9", "output:1,2,3,4,5,6,7,8,..."),
            ("actions=resubmit(,0)", "drop"), ("table=1,actions=1", "drop"),  // a limit hit; a table miss
            ("actions=65279", "output:65279"),
        ]
        for (policy, text) in policies {
            let (_, verdicts) = try run(policy, [syn])
            #expect(verdicts[0].action.description == text, "\(policy)")
            #expect(verdicts[0].line(index: 0).hasSuffix("\t" + text))
        }
        #expect(PacketVerdict().line(index: 3) == "3\t-\t0\t-\t-\t-")  // the default pipeline's
    }
}
