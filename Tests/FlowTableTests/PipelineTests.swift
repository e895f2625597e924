import Conntrack
import PacketParsing
import Testing
@testable import FlowTable

/// The pipeline's action-list semantics, with a scripted conntrack.
@Suite struct PipelineTests {
    func tcp(port: UInt32, dport: UInt16 = 21) -> MatchKey {
        var p = ParsedPacket()
        p.key = FlowKey(src: IPAddress(v4: 0x0A00_0001), dst: IPAddress(v4: 0x0A00_0002), srcPort: 40000, dstPort: dport,
                        proto: IPProtocol.tcp, family: .ipv4)
        return MatchKey(packet: p, inPort: port)
    }

    @Test func seedPolicy1() throws {
        let c = Classifier(try FlowParser.parse(try loadFlowFile("seed-flows1.flows")))
        // Port 1: commit with the FTP ALG (no recirculation), then output 2.
        var specs: [CTSpec] = []
        let out = c.run(key: tcp(port: 1)) { spec in
            specs.append(spec)
            return CTVerdict(state: [.tracked, .new], zone: spec.zone)
        }
        #expect(specs == [CTSpec(commit: true, alg: .ftp)])
        #expect(out.outputs.array == [2] && !out.normal && out.recirculations == 0 && out.conntrackCalls == 1)
        // Port 2, established: ct(recirc), then +trk-new+est outputs 1.
        let back = c.run(key: tcp(port: 2)) { _ in CTVerdict(state: [.tracked, .established, .reply], zone: 0) }
        #expect(back.outputs.array == [1] && back.recirculations == 1)
        // Port 2, new: recirculated, no flow for +trk+new on port 2 but the priority-1 drop.
        let new = c.run(key: tcp(port: 2)) { _ in CTVerdict(state: [.tracked, .new], zone: 0) }
        #expect(new.isDrop && new.recirculations == 1 && new.misses == 0)
        // ARP is forwarded normally; other ports' UDP dropped.
        #expect(c.run(key: MatchKey(etherType: EtherType.arp, inPort: 3)) { _ in fatalError() }.normal)
        var udp = tcp(port: 3); udp.nwProto = IPProtocol.udp
        #expect(c.run(key: udp) { _ in fatalError() }.isDrop)
    }

    @Test func defaultFlows() {
        let c = Classifier(DefaultFlows.flows)
        func run(_ key: MatchKey, _ state: CTState) -> (PipelineResult, [CTSpec]) {
            var specs: [CTSpec] = []
            let result = c.run(key: key) { spec in
                specs.append(spec)
                return CTVerdict(state: state, zone: spec.zone)
            }
            return (result, specs)
        }
        let (ftp, ftpSpecs) = run(tcp(port: 1, dport: 21), [.tracked, .new])
        #expect(ftp.normal && ftpSpecs == [CTSpec(recirculation: .sameTable), CTSpec(commit: true, alg: .ftp)])
        var tftpKey = tcp(port: 1, dport: 69)
        tftpKey.nwProto = IPProtocol.udp
        #expect(run(tftpKey, [.tracked, .new]).1.last == CTSpec(commit: true, alg: .tftp))
        #expect(run(tcp(port: 1, dport: 69), [.tracked, .new]).1.last == CTSpec(commit: true))
        let (est, estSpecs) = run(tcp(port: 1, dport: 80), [.tracked, .established])
        #expect(est.normal && estSpecs.count == 1)
        #expect(run(tcp(port: 1, dport: 80), [.tracked, .related]).0.normal)
        let (inv, _) = run(tcp(port: 1, dport: 21), [.tracked, .invalid])
        #expect(inv.isDrop)
        let (arp, arpSpecs) = run(MatchKey(etherType: EtherType.arp, inPort: 1), [])
        #expect(arp.normal && arpSpecs.isEmpty)
    }

    @Test func resubmitAndOrder() throws {
        let c = Classifier(try FlowParser.parse("""
            table=0,actions=1,resubmit(,1),4
            table=1,actions=2,resubmit:2,3
            table=2,actions=normal
            table=3,actions=ct(table=4)
            table=4,actions=9
            table=5,actions=5,resubmit(,3),6
            """))
        let r = c.run(key: tcp(port: 1)) { _ in fatalError() }
        #expect(r.outputs.array == [1, 2, 3, 4] && r.normal)
        // A recirculating ct reached through resubmit ends the pass: 6 never runs.
        let ctRun = c.run(key: tcp(port: 1), table: 5) { spec in CTVerdict(state: [.tracked], zone: spec.zone) }
        #expect(ctRun.outputs.array == [5, 9] && ctRun.recirculations == 1)
        // A miss drops that branch only.
        let miss = Classifier(try FlowParser.parse("actions=1,resubmit(,7),2"))
        let m = miss.run(key: tcp(port: 1)) { _ in fatalError() }
        #expect(m.outputs.array == [1, 2] && m.misses == 1)
    }

    @Test func limits() throws {
        let loop = Classifier(try FlowParser.parse("actions=resubmit(,0)"))
        #expect(loop.run(key: tcp(port: 1)) { _ in fatalError() }.limitHit)
        let recirc = Classifier(try FlowParser.parse("actions=ct(recirc)"))
        var calls = 0
        let r = recirc.run(key: tcp(port: 1)) { _ in calls += 1; return CTVerdict(state: [.tracked], zone: 0) }
        #expect(r.limitHit && r.recirculations == Classifier.maxRecirculations && calls == Classifier.maxRecirculations + 1)
        let many = Classifier(try FlowParser.parse("actions=1,2,3,4,5,6,7,8,9,10"))
        let o = many.run(key: tcp(port: 1)) { _ in fatalError() }
        #expect(o.outputs.count == 8 && o.outputs.overflowed && o.outputs[7] == 8)
        #expect(Classifier([]).run(key: tcp(port: 1)) { _ in fatalError() }.isDrop)
    }

    @Test func recirculationUpdatesCTFields() throws {
        let c = Classifier(try FlowParser.parse("""
            table=0,ct_state=-trk,actions=ct(zone=5,table=1)
            table=1,ct_zone=5,ct_mark=3,ct_state=+trk+est,actions=7
            table=1,actions=drop
            """))
        let r = c.run(key: tcp(port: 1)) { spec in
            var v = CTVerdict(state: [.tracked, .established], zone: spec.zone)
            v.mark = 3
            return v
        }
        #expect(r.outputs.array == [7])
    }
}
