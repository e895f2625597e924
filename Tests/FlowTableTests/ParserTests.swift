import Conntrack
import Foundation
import PacketParsing
import Testing
@testable import FlowTable

/// Parses one line, failing the test on an error.
func flow(_ line: String) throws -> Flow { try FlowParser.parseFlow(line) }

/// The error a text gives (nil when it parses).
func parseError(_ text: String) -> FlowTableError? {
    do {
        _ = try FlowParser.parse(text)
        return nil
    } catch {
        return error
    }
}

func ct(_ s: CTState) -> UInt8 { s.rawValue }

@Suite struct ParserFieldTests {
    @Test func defaultsAndPriorityTable() throws {
        let f = try flow("actions=drop")
        #expect(f.priority == 32768)
        #expect(f.table == 0)
        #expect(f.match == FlowMatch())
        #expect(f.actions == [.drop])
        let g = try flow("priority=7,table=3,actions=normal")
        #expect(g.priority == 7 && g.table == 3 && g.actions == [.normal])
        #expect(try flow("priority=0x10,actions=drop").priority == 16)
    }

    @Test func protocolShorthands() throws {
        let cases: [(String, UInt16, UInt8?)] = [
            ("ip", 0x0800, nil), ("ipv6", 0x86DD, nil), ("arp", 0x0806, nil),
            ("tcp", 0x0800, 6), ("udp", 0x0800, 17), ("icmp", 0x0800, 1),
            ("tcp6", 0x86DD, 6), ("udp6", 0x86DD, 17), ("icmp6", 0x86DD, 58),
        ]
        for (word, dlType, proto) in cases {
            let m = try flow("\(word),actions=drop").match
            #expect(m.value.dlType == dlType && m.mask.dlType == 0xFFFF, "\(word)")
            #expect(m.value.nwProto == (proto ?? 0) && m.mask.nwProto == (proto == nil ? 0 : 0xFF), "\(word)")
        }
        // dl_type and nw_proto spelled out are the same match.
        #expect(try flow("dl_type=0x0800,nw_proto=6,actions=drop").match == flow("tcp,actions=drop").match)
        // Agreeing repeats are fine.
        #expect(try flow("ip,tcp,actions=drop").match == flow("tcp,actions=drop").match)
    }

    @Test func inPortAndTransportPorts() throws {
        let m = try flow("in_port=5,tcp,tp_src=1024,tp_dst=80,actions=drop").match
        #expect(m.value.inPort == 5 && m.mask.inPort == .max)
        #expect(m.value.tpSrc == 1024 && m.mask.tpSrc == 0xFFFF)
        #expect(m.value.tpDst == 80 && m.mask.tpDst == 0xFFFF)
        let masked = try flow("udp,tp_dst=0x1000/0xf000,actions=drop").match
        #expect(masked.value.tpDst == 0x1000 && masked.mask.tpDst == 0xF000)
        // Value bits outside the mask are dropped.
        #expect(try flow("udp,tp_dst=0x1234/0xff00,actions=drop").match.value.tpDst == 0x1200)
        // Order does not matter: the protocol may come after the port.
        #expect(try flow("tp_dst=80,tcp,actions=drop").match == flow("tcp,tp_dst=80,actions=drop").match)
    }

    @Test func ipv4Addresses() throws {
        let m = try flow("ip,nw_src=10.1.2.3,nw_dst=192.168.0.0/16,actions=drop").match
        #expect(m.value.src == IPAddress(v4: 0x0A01_0203).masked32)
        #expect(m.mask.src == IPAddress(high: 0, low: 0xFFFF_FFFF))
        #expect(m.value.dst.low == 0xC0A8_0000 && m.mask.dst.low == 0xFFFF_0000)
        let netmask = try flow("ip,nw_dst=192.168.0.0/255.255.0.0,actions=drop").match
        #expect(try netmask == flow("ip,nw_dst=192.168.0.0/16,actions=drop").match)
        #expect(try flow("ip,nw_src=10.9.9.9/8,actions=drop").match.value.src.low == 0x0A00_0000)
        #expect(try flow("ip,nw_src=0.0.0.0/0,actions=drop").match.mask.src == .zero)
    }

    @Test func ipv6Addresses() throws {
        let m = try flow("ipv6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8:1::/48,actions=drop").match
        #expect(m.value.src == IPAddress(high: 0x2001_0db8_0000_0000, low: 1))
        #expect(m.mask.src == IPAddress(high: .max, low: .max))
        #expect(m.value.dst == IPAddress(high: 0x2001_0db8_0001_0000, low: 0))
        #expect(m.mask.dst == IPAddress(high: 0xFFFF_FFFF_FFFF_0000, low: 0))
        let long = try flow("tcp6,ipv6_src=::ffff:10.0.0.1/120,actions=drop").match
        #expect(long.mask.src == IPAddress(high: .max, low: 0xFFFF_FFFF_FFFF_FF00))
        #expect(long.value.src == IPAddress(high: 0, low: 0x0000_FFFF_0A00_0000))
        let full = try flow("ipv6,ipv6_src=1:2:3:4:5:6:7:8,actions=drop").match
        #expect(full.value.src == IPAddress(high: 0x0001_0002_0003_0004, low: 0x0005_0006_0007_0008))
    }

    @Test func ctFields() throws {
        let m = try flow("ct_state=+trk-new+est,ct_zone=7,ct_mark=0x10/0xf0,actions=drop").match
        #expect(m.mask.ctState == [.tracked, .new, .established])
        #expect(m.value.ctState == [.tracked, .established])
        #expect(m.value.ctZone == 7 && m.mask.ctZone == 0xFFFF)
        #expect(m.value.ctMark == 0x10 && m.mask.ctMark == 0xF0)
        #expect(try flow("conn_state=-trk,actions=drop").match == flow("ct_state=-trk,actions=drop").match)
        let all = try flow("ct_state=+trk+new+est+rel+rpl+inv+snat+dnat,actions=drop").match
        #expect(all.value.ctState.rawValue == 0xFF && all.mask.ctState.rawValue == 0xFF)
        #expect(try flow("ct_state=0x21/0x21,actions=drop").match == flow("ct_state=+trk+new,actions=drop").match)
        #expect(try flow("ct_mark=5,actions=drop").match.mask.ctMark == .max)
    }

    @Test func commentsBlankLinesAndSpaces() throws {
        let text = """
            # a comment

            priority=5, tcp ,actions=drop   # trailing comment
               \t
            # priority=6,nonsense
            arp,actions=normal\r
            """
        let flows = try FlowParser.parse(text)
        #expect(flows.count == 2)
        #expect(try flows[0].priority == 5 && flows[0].match == flow("tcp,actions=drop").match)
        #expect(flows[1].actions == [.normal])
        #expect(try FlowParser.parse("").isEmpty)
        #expect(try FlowParser.parse("# only\n\n").isEmpty)
    }
}

@Suite struct ParserActionTests {
    @Test func actionVersusActions() throws {
        #expect(try flow("tcp,action=1") == flow("tcp,actions=1"))
        #expect(try flow("tcp,action=output:1").actions == [.output(1)])
    }

    @Test func simpleActions() throws {
        #expect(try flow("actions=output:3,4,normal").actions == [.output(3), .output(4), .normal])
        #expect(try flow("actions=NORMAL").actions == [.normal])
        #expect(try flow("actions=drop").actions == [.drop])
        #expect(try flow("actions=").actions == [])
        #expect(try flow("actions=resubmit(,3),resubmit:4").actions == [.resubmit(table: 3), .resubmit(table: 4)])
        #expect(try flow("actions=resubmit( , 5 )").actions == [.resubmit(table: 5)])
    }

    @Test func ctActions() throws {
        #expect(try flow("actions=ct(recirc)").actions == [.ct(CTSpec(recirculation: .sameTable))])
        #expect(try flow("actions=ct(table=4)").actions == [.ct(CTSpec(recirculation: .table(4)))])
        #expect(try flow("actions=ct()").actions == [.ct(CTSpec())])
        #expect(try flow("actions=ct(commit,alg=ftp),2").actions
                    == [.ct(CTSpec(commit: true, alg: .ftp)), .output(2)])
        #expect(try flow("actions=ct(alg=tftp,commit,zone=9)").actions
                    == [.ct(CTSpec(commit: true, alg: .tftp, zone: 9))])
        let exec = try flow("actions=ct(commit,exec(set_field:0x5/0xff->ct_mark,set_field:0x1234567890abcdef00->ct_label)),normal")
        #expect(exec.actions == [
            .ct(CTSpec(commit: true, mark: 5, markMask: 0xFF, label: CTLabel(high: 0x12, low: 0x34_5678_90ab_cdef_00))),
            .normal,
        ])
        #expect(try flow("actions=ct(commit,exec(set_field:7->ct_mark))").actions
                    == [.ct(CTSpec(commit: true, mark: 7, markMask: .max))])
        let spec = CTSpec(commit: true, alg: .ftp, zone: 3, mark: 1, markMask: 1)
        #expect(spec.conntrackAction == CTAction(zone: 3, commit: true, alg: .ftp, mark: 1, markMask: 1))
    }

    @Test func seedPolicy1() throws {
        let flows = try FlowParser.parse(try loadFlowFile("seed-flows1.flows"))
        let tcpIn = { (port: UInt32) -> (MatchKey, MatchKey) in
            var v = MatchKey(); var m = MatchKey()
            v.inPort = port; m.inPort = .max
            v.dlType = 0x0800; m.dlType = 0xFFFF
            v.nwProto = 6; m.nwProto = 0xFF
            return (v, m)
        }
        func match(_ port: UInt32, _ state: CTState?, _ mask: CTState?) -> FlowMatch {
            var (v, m) = tcpIn(port)
            if let state, let mask { v.ctState = state; m.ctState = mask }
            return FlowMatch(value: v, mask: m)
        }
        var arp = MatchKey(); arp.dlType = 0x0806
        var icmp = MatchKey(); icmp.dlType = 0x0800; icmp.nwProto = 1
        var protoMask = MatchKey(); protoMask.dlType = 0xFFFF
        var icmpMask = protoMask; icmpMask.nwProto = 0xFF
        let expected = [
            Flow(priority: 1, actions: [.drop]),
            Flow(priority: 10, match: FlowMatch(value: arp, mask: protoMask), actions: [.normal]),
            Flow(priority: 10, match: FlowMatch(value: icmp, mask: icmpMask), actions: [.normal]),
            Flow(match: match(1, nil, nil), actions: [.ct(CTSpec(commit: true, alg: .ftp)), .output(2)]),
            Flow(match: match(2, [], [.tracked]), actions: [.ct(CTSpec(recirculation: .sameTable))]),
            Flow(match: match(2, [.tracked, .established], [.tracked, .new, .established]), actions: [.output(1)]),
            Flow(match: match(2, [.tracked, .related], [.tracked, .related]), actions: [.output(1)]),
        ]
        #expect(flows == expected)
    }

    @Test func seedPolicy2() throws {
        let flows = try FlowParser.parse(try loadFlowFile("seed-flows2.flows"))
        #expect(flows.count == 10)
        #expect(flows.map(\.priority) == [1, 10, 10] + Array(repeating: 32768, count: 7))
        #expect(flows.map(\.match.value.inPort) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
        let states = flows.map { ($0.match.value.ctState, $0.match.mask.ctState) }
        #expect(states[3] == ([], [.tracked]))
        #expect(states[4] == ([.tracked, .new], [.tracked, .new]))
        #expect(states[5] == ([.tracked, .established], [.tracked, .established]))
        #expect(states[7] == ([.tracked, .new, .related], [.tracked, .new, .related]))
        #expect(states[8] == ([.tracked, .established], [.tracked, .new, .established]))
        #expect(states[9] == ([.tracked, .related], [.tracked, .new, .related]))
        #expect(flows[4].actions == [.ct(CTSpec(commit: true, alg: .ftp)), .output(2)])
        #expect(flows[5].actions == [.output(2)])
        #expect(flows[6].actions == [.ct(CTSpec(recirculation: .sameTable))])
        #expect(flows[7].actions == [.ct(CTSpec(commit: true)), .output(1)])
        #expect(flows[3...].allSatisfy { $0.match.value.nwProto == 6 && $0.match.value.dlType == 0x0800 })
    }

    @Test func defaultFlowsFileMatchesConstant() throws {
        let file = try loadFlowFile("default.flows")
        #expect(file.trimmingCharacters(in: .whitespacesAndNewlines)
                    == DefaultFlows.text.trimmingCharacters(in: .whitespacesAndNewlines))
        let flows = DefaultFlows.flows
        #expect(flows.count == 11)
        #expect(flows.last == Flow(priority: 0, actions: [.normal]))
        #expect(flows.contains { $0.actions == [.ct(CTSpec(commit: true, alg: .tftp)), .normal] && $0.match.value.dlType == 0x86DD })
    }
}

/// A file of the repository's flows/ folder (found from this source file's path).
func loadFlowFile(_ name: String) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return try String(contentsOf: root.appendingPathComponent("flows").appendingPathComponent(name), encoding: .utf8)
}

extension IPAddress {
    /// The low 32 bits only (how an IPv4 flow value is stored: the mask covers those bits).
    var masked32: IPAddress { IPAddress(high: 0, low: low & 0xFFFF_FFFF) }
}

@Suite struct ParserErrorTests {
    func expectError(_ text: String, line: Int, column: Int, contains parts: [String],
                     sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = parseError(text) else {
            Issue.record("parsed without error: \(text)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
        #expect(error.column == column, "\(error)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(error.description.contains(part), "'\(part)' not in: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func unknownField() {
        expectError("priority=1,actions=drop\n\n  tcp,nw_sorc=1.2.3.4,actions=drop", line: 3, column: 7,
                    contains: ["line 3, column 7: unknown field 'nw_sorc'", "(expected one of", "nw_src"])
        #expect(parseError("tcp,nw_sorc=1,actions=drop")?.text == "nw_sorc")
        expectError("tcpp,actions=drop", line: 1, column: 1, contains: ["unknown field 'tcpp'"])
        expectError("in_port,actions=drop", line: 1, column: 1, contains: ["'in_port' needs a value"])
        expectError("in_port=,actions=drop", line: 1, column: 9, contains: ["missing value"])
    }

    @Test func unknownALG() {
        let text = "# c\n#\n\n\npriority=5,in_port=1,tcp,actions=ct(alg=http)"
        expectError(text, line: 5, column: 41, contains: ["'ct(alg=http)': unknown ALG 'http'", "(expected ftp or tftp)"])
        #expect(parseError(text)?.text == "http")
    }

    @Test func conflicts() {
        expectError("tcp,udp,actions=drop", line: 1, column: 5, contains: ["'udp' conflicts with 'tcp' at column 1", "nw_proto"])
        expectError("ip,ipv6,actions=drop", line: 1, column: 4, contains: ["'ipv6' conflicts with 'ip'", "dl_type"])
        expectError("tcp,tp_src=1,tp_src=2,actions=drop", line: 1, column: 14, contains: ["conflicts with 'tp_src=1'"])
        expectError("priority=1,priority=2,actions=drop", line: 1, column: 12, contains: ["conflicts"])
        expectError("ct_state=+trk-trk,actions=drop", line: 1, column: 14, contains: ["'trk' given twice"])
        expectError("actions=ct(recirc,table=2)", line: 1, column: 19, contains: ["'table=2' conflicts with 'recirc'"])
    }

    @Test func prerequisites() {
        expectError("tp_src=80,actions=drop", line: 1, column: 1,
                    contains: ["'tp_src=80' needs a transport protocol", "expected tcp, udp"])
        expectError("icmp,tp_dst=80,actions=drop", line: 1, column: 6, contains: ["needs TCP, UDP or SCTP but 'icmp'"])
        expectError("ip,ipv6_src=::1,actions=drop", line: 1, column: 4,
                    contains: ["'ipv6_src=::1' is an IPv6 field but 'ip' at column 1 makes the flow IPv4"])
        expectError("ipv6_dst=::1,tcp,actions=drop", line: 1, column: 1, contains: ["IPv6 field", "'tcp'"])
        expectError("tcp6,nw_src=1.2.3.4,actions=drop", line: 1, column: 6, contains: ["IPv4 field", "IPv6"])
        expectError("nw_dst=1.2.3.4,actions=drop", line: 1, column: 1, contains: ["needs an IPv4 flow"])
        expectError("ipv6_dst=::1,actions=drop", line: 1, column: 1, contains: ["needs an IPv6 flow"])
        expectError("arp,nw_proto=6,actions=drop", line: 1, column: 5, contains: ["needs an IP flow"])
    }

    @Test func badPrefixesAndAddresses() {
        expectError("ip,nw_src=10.0.0.0/33,actions=drop", line: 1, column: 20,
                    contains: ["bad prefix length '33'", "0 to 32"])
        expectError("ipv6,ipv6_src=::/129,actions=drop", line: 1, column: 18, contains: ["bad prefix length '129'", "0 to 128"])
        expectError("ip,nw_src=10.0.0/8,actions=drop", line: 1, column: 11, contains: ["'10.0.0' is not an IPv4 address"])
        expectError("ip,nw_src=10.0.0.256,actions=drop", line: 1, column: 11, contains: ["not an IPv4 address"])
        expectError("ipv6,ipv6_src=1::2::3,actions=drop", line: 1, column: 15, contains: ["not an IPv6 address"])
        expectError("ipv6,ipv6_src=1:2:3:4:5:6:7,actions=drop", line: 1, column: 15, contains: ["not an IPv6 address"])
    }

    @Test func numbersOutOfRange() {
        expectError("priority=65536,actions=drop", line: 1, column: 10, contains: ["priority 65536 is out of range", "0 to 65535"])
        expectError("table=255,actions=drop", line: 1, column: 7, contains: ["table 255 is out of range", "0 to 254"])
        expectError("tcp,tp_dst=70000,actions=drop", line: 1, column: 12, contains: ["tp_dst 70000 is out of range"])
        expectError("ct_zone=99999999999999999999999,actions=drop", line: 1, column: 9, contains: ["out of range"])
        expectError("ct_mark=0x100000000,actions=drop", line: 1, column: 9, contains: ["ct_mark 0x100000000 is out of range"])
        expectError("in_port=abc,actions=drop", line: 1, column: 9, contains: ["'abc' is not a number"])
        expectError("actions=ct(zone=65536)", line: 1, column: 17, contains: ["zone 65536 is out of range"])
        expectError("actions=output:70000", line: 1, column: 16, contains: ["output port 70000 is out of range"])
        expectError("actions=resubmit(,255)", line: 1, column: 19, contains: ["table 255 is out of range"])
    }

    @Test func parentheses() {
        expectError("tcp,actions=ct(commit,2", line: 1, column: 15, contains: ["unbalanced parentheses", "never closed"])
        expectError("tcp,actions=ct(commit)),2", line: 1, column: 23, contains: ["unbalanced parentheses", "')' without '('"])
        expectError("actions=ct(commit,exec(set_field:1->ct_mark)", line: 1, column: 11, contains: ["never closed"])
        expectError("actions=ct(commit)x", line: 1, column: 11, contains: ["text after the closing ')'"])
    }

    @Test func missingAndBadActions() {
        expectError("priority=1,tcp", line: 1, column: 15, contains: ["missing actions", "actions="])
        expectError("tcp,,actions=drop", line: 1, column: 5, contains: ["empty field"])
        expectError("actions=1,,2", line: 1, column: 11, contains: ["empty action"])
        expectError("actions=flood", line: 1, column: 9, contains: ["unknown action 'flood'", "resubmit(,TABLE)"])
        expectError("actions=drop,1", line: 1, column: 9, contains: ["'drop' must be the only action"])
        expectError("actions=ct(recirc),1", line: 1, column: 20, contains: ["no action may follow a recirculating ct"])
        expectError("actions=resubmit(1,2)", line: 1, column: 18, contains: ["resubmit to a port is not supported"])
        expectError("actions=ct(nat)", line: 1, column: 12, contains: ["nat is not supported"])
        expectError("actions=ct(bogus)", line: 1, column: 12, contains: ["unknown ct argument 'bogus'"])
        expectError("actions=ct(exec(set_field:1->ct_mark))", line: 1, column: 12, contains: ["exec(...) needs commit"])
        expectError("actions=ct(commit,exec(set_field:1->ct_zone))", line: 1, column: 37,
                    contains: ["unsupported set_field target 'ct_zone'"])
        expectError("ct_state=+foo,actions=drop", line: 1, column: 11, contains: ["unknown ct_state flag 'foo'", "trk, new, est"])
        expectError("ct_state=trk,actions=drop", line: 1, column: 10, contains: ["has no sign"])
    }

    @Test func nothingHalfLoads() {
        let text = "priority=1,actions=drop\ntcp,actions=1\nudp,tp_dst=99999,actions=2\narp,actions=normal"
        expectError(text, line: 3, column: 12, contains: ["out of range"])
    }
}
