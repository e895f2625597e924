import ApplicationGateways
import Conntrack
import Datapath
import Foundation
import PacketParsing
import Testing
import TestSupport
import TraceIO
import TraceSynthesis

/// One row of ../shared/traces/GROUND_TRUTH.tsv, read at test time.
struct GroundTruthRow: Sendable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// The data connection is in the capture and must be +trk+new+rel.
        case yes
        /// A valid announcement whose data connection is not in the capture.
        case yesIfSeen
        /// Must not create an expectation (`policy: ...`, `no/policy: ...`).
        case policy
        /// Nothing can be derived.
        case no
    }

    var file: String
    var line: Int
    var mode: String
    var control: FlowKey
    /// 0-based trace index of the announcing frame.
    var announceIndex: Int
    var listener: Endpoint
    var initiator: IPAddress
    /// The data connection's first packet key and 0-based index, when in the capture.
    var observed: (key: FlowKey, index: Int)?
    var kind: Kind
    var expectRelated: String

    var isTFTP: Bool { control.proto == IPProtocol.udp }
    /// The control connection's peer that must own the announced address: the client for
    /// PORT / EPRT / TFTP, the server for 227 / 229.
    var controlPeer: IPAddress {
        mode == "PASV" || mode == "EPSV" ? control.dst : control.src
    }
    /// An FTP bounce: the announced listener is not the control connection's peer.
    var isBounce: Bool { listener.address != controlPeer }

    var description: String { "\(file):\(line) \(mode) frame \(announceIndex + 1) [\(expectRelated)]" }
}

struct GroundTruthFormatError: Error, CustomStringConvertible {
    var description: String
}

/// "tcp 1.2.3.4:5 -> 6.7.8.9:21 ..." or "tcp [v6]:5 -> [v6]:21" -> its flow key.
func parseFiveTuple(_ text: String) throws -> FlowKey {
    let tokens = text.split(separator: " ").map(String.init)
    guard tokens.count >= 4, tokens[2] == "->" else { throw GroundTruthFormatError(description: "bad 5-tuple: \(text)") }
    let proto: UInt8
    switch tokens[0] {
    case "tcp": proto = IPProtocol.tcp
    case "udp": proto = IPProtocol.udp
    default: throw GroundTruthFormatError(description: "bad protocol in \(text)")
    }
    func endpoint(_ s: String) throws -> Endpoint {
        guard let colon = s.lastIndex(of: ":"), let port = UInt16(s[s.index(after: colon)...]) else {
            throw GroundTruthFormatError(description: "bad endpoint \(s) in \(text)")
        }
        var host = String(s[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let e = Endpoint(parsing: host, port: port) else {
            throw GroundTruthFormatError(description: "bad address \(host) in \(text)")
        }
        return e
    }
    let src = try endpoint(tokens[1]), dst = try endpoint(tokens[3])
    return FlowKey(src: src.address, dst: dst.address, srcPort: src.port, dstPort: dst.port, proto: proto,
                   family: src.isIPv6 ? .ipv6 : .ipv4)
}

func groundTruthRows() throws -> [GroundTruthRow] {
    let dir = try sharedTracesDirectory()
    let path = dir.appendingPathComponent("GROUND_TRUTH.tsv").path
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        Issue.record("ground truth missing: expected it at \(path)")
        throw MissingFixture(path: path)
    }
    var header: [String]?
    var rows: [GroundTruthRow] = []
    for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
        if line.isEmpty || line.hasPrefix("#") { continue }
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard let columns = header else { header = fields; continue }
        func column(_ name: String) throws -> String {
            guard let i = columns.firstIndex(where: { $0 == name || $0.hasPrefix(name + "(") }), i < fields.count else {
                throw GroundTruthFormatError(description: "GROUND_TRUTH.tsv line \(n + 1): no column \(name)")
            }
            return fields[i]
        }
        let expect = try column("expect_related")
        let kind: GroundTruthRow.Kind
        if expect == "yes" { kind = .yes }
        else if expect.hasPrefix("yes-if-seen") { kind = .yesIfSeen }
        else if expect.hasPrefix("policy") || expect.hasPrefix("no/policy") { kind = .policy }
        else if expect.hasPrefix("no") { kind = .no }
        else { throw GroundTruthFormatError(description: "GROUND_TRUTH.tsv line \(n + 1): unknown expect_related \(expect)") }
        guard let frame = Int(try column("announce_frame")), frame >= 1,
              let port = UInt16(try column("data_server_port")),
              let listener = Endpoint(parsing: try column("data_server_ip"), port: port),
              let initiator = Endpoint(parsing: try column("data_client_ip")) else {
            throw GroundTruthFormatError(description: "GROUND_TRUTH.tsv line \(n + 1): bad frame/listener/initiator")
        }
        let observedText = try column("observed_data_conn")
        var observed: (FlowKey, Int)?
        if observedText != "not in capture" {
            guard let open = observedText.range(of: "(frame ") else {
                throw GroundTruthFormatError(description: "GROUND_TRUTH.tsv line \(n + 1): bad observed_data_conn \(observedText)")
            }
            let digits = observedText[open.upperBound...].prefix(while: \.isNumber)
            guard let observedFrame = Int(digits), observedFrame >= 1 else {
                throw GroundTruthFormatError(description: "GROUND_TRUTH.tsv line \(n + 1): bad frame in \(observedText)")
            }
            observed = (try parseFiveTuple(String(observedText[..<open.lowerBound])), observedFrame - 1)
        }
        rows.append(GroundTruthRow(
            file: try column("file"), line: n + 1, mode: try column("mode"),
            control: try parseFiveTuple(try column("ctrl_5tuple")), announceIndex: frame - 1,
            listener: listener, initiator: initiator.address, observed: observed, kind: kind, expectRelated: expect))
    }
    return rows
}

/// The capture files named in the ground truth, in order of first appearance.
func groundTruthFiles() throws -> [String] {
    var seen: [String] = []
    for row in try groundTruthRows() where !seen.contains(row.file) { seen.append(row.file) }
    return seen
}

@Suite("Ground truth: public FTP/TFTP captures")
struct GroundTruthTests {
    @Test func groundTruthCoversEveryKind() throws {
        let rows = try groundTruthRows()
        #expect(rows.count > 500)
        #expect(rows.contains { $0.kind == .yes })
        #expect(rows.contains { $0.kind == .yesIfSeen })
        #expect(rows.contains { $0.kind == .policy })
        #expect(rows.contains { $0.isTFTP })
        // Every capture named exists.
        let dir = try sharedTracesDirectory()
        for file in try groundTruthFiles() {
            let path = dir.appendingPathComponent(file).path
            #expect(FileManager.default.fileExists(atPath: path), "capture named in GROUND_TRUTH.tsv missing: \(path)")
        }
    }

    @Test(arguments: try groundTruthFiles())
    func capture(file: String) throws {
        let rows = try groundTruthRows().filter { $0.file == file }
        let path = try sharedTracesDirectory().appendingPathComponent(file).path
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("capture missing: expected it at \(path)")
            throw MissingFixture(path: path)
        }
        let trace = try TraceLoader.loadComplete(path: path)
        let pipeline = DefaultPipeline()
        let announceIndices = Set(rows.map(\.announceIndex))
        var expectationsAfter: [Int: [Conntrack.Expectation]] = [:]
        let packets = replay(trace, through: pipeline) { index, _ in
            if announceIndices.contains(index) { expectationsAfter[index] = pipeline.partition.expectations.all }
        }
        #expect(packets.count == trace.count)

        // The control connections: id = index of the first packet on the 5-tuple.
        var controlIDs: [FlowKey: UInt64] = [:]
        for key in Set(rows.map(\.control)) {
            guard let first = packets.firstIndex(where: { $0.key == key || $0.key == key.reversed }) else {
                Issue.record("\(file): no packet of control connection \(key)")
                continue
            }
            #expect(packets[first].verdict.connectionID == UInt64(first),
                    "\(file): control \(key) first packet (frame \(first + 1)) \(packets[first].verdict.state) conn \(packets[first].verdict.connectionID)")
            controlIDs[key] = UInt64(first)
        }

        var accountedRelated = Set<Int>()
        for row in rows {
            guard let controlID = controlIDs[row.control] else { continue }
            let live = expectationsAfter[row.announceIndex] ?? []
            let toListener = live.filter {
                $0.key.dst == row.listener.address && $0.key.dstPort == row.listener.port
                    && $0.key.proto == row.control.proto
            }
            switch row.kind {
            case .yes, .yesIfSeen:
                // The announcing frame created the expectation, owned by the control connection.
                let mine = toListener.filter {
                    $0.masterID == controlID && $0.key.src == row.initiator && $0.announcedAt == UInt64(row.announceIndex)
                }
                #expect(mine.count == 1, "\(row): expectation for \(row.listener) after frame \(row.announceIndex + 1): \(live.map { "\($0.key) m=\($0.masterID) at=\($0.announcedAt)" })")
                #expect(!packets[row.announceIndex].verdict.state.contains(.invalid), "\(row): announcing frame \(packets[row.announceIndex].verdict.state)")
            case .policy:
                #expect(toListener.isEmpty, "\(row): refused announcement created \(toListener.map(\.key))")
                if row.isBounce {
                    let v = packets[row.announceIndex].verdict
                    #expect(v.state.isSuperset(of: [.tracked, .established, .invalid]) && !v.state.contains(.related),
                            "\(row): bounce announcement should be +trk+est+inv, is \(v.state)")
                    #expect(v.connectionID == controlID, "\(row): announcing frame on conn \(v.connectionID), control \(controlID)")
                }
            case .no:
                break
            }

            guard let (dataKey, first) = row.observed else { continue }
            #expect(packets[first].key == dataKey, "\(row): frame \(first + 1) is \(String(describing: packets[first].key)), expected \(dataKey)")
            let firstVerdict = packets[first].verdict
            let later = packets.indices.filter { $0 > first && (packets[$0].key == dataKey || packets[$0].key == dataKey.reversed) }
            switch row.kind {
            case .yes:
                #expect(firstVerdict.state == newRelated, "\(row): data conn first packet (frame \(first + 1)) is \(firstVerdict.state)")
                #expect(firstVerdict.masterID == controlID, "\(row): data conn master \(firstVerdict.masterID), control \(controlID)")
                #expect(firstVerdict.connectionID == UInt64(first), "\(row): data conn id \(firstVerdict.connectionID)")
                accountedRelated.insert(first)
                for i in later {
                    let v = packets[i].verdict
                    #expect(v.state.contains(.related) && v.connectionID == UInt64(first) && v.masterID == controlID,
                            "\(row): data conn packet frame \(i + 1) is \(v.state) conn \(v.connectionID) master \(v.masterID)")
                    accountedRelated.insert(i)
                }
            case .policy, .yesIfSeen, .no:
                #expect(firstVerdict.state == plainNew, "\(row): data conn of a refused announcement is \(firstVerdict.state)")
                for i in later { #expect(!packets[i].verdict.state.contains(.related), "\(row): frame \(i + 1) related") }
            }
        }

        // No other packet of the capture is related.
        let related = relatedIndices(packets)
        let unaccounted = related.filter { !accountedRelated.contains($0) }
        #expect(related.count == accountedRelated.count && unaccounted.isEmpty,
                "\(file): \(related.count) +rel packets, \(accountedRelated.count) accounted; unexpected frames \(unaccounted.prefix(20).map { $0 + 1 })")

        // Counters agree with the rows.
        let stats = pipeline.algs.stats
        let wanted = rows.filter { $0.kind == .yes || $0.kind == .yesIfSeen }.count
        #expect(pipeline.partition.expectations.stats.created >= UInt64(wanted), "\(file): expectations created \(pipeline.partition.expectations.stats.created), rows \(wanted)")
        #expect(stats.expectationsAnnounced >= UInt64(wanted))
        let bounces = rows.filter { $0.kind == .policy && $0.isBounce }.count
        #expect(stats.rejected(.addressNotControlPeer) == UInt64(bounces),
                "\(file): address_not_control_peer \(stats.rejected(.addressNotControlPeer)), bounce rows \(bounces)")
        let tftpRows = rows.filter(\.isTFTP).count
        #expect(stats.tftpRequests >= UInt64(tftpRows))
    }

    /// zeek/ftp-many-port-expected.pcap: 500 PORT commands announcing a foreign address, each
    /// refused as an FTP bounce (+inv), none creating an expectation.
    @Test func manyForeignPortsAllRefused() throws {
        let file = "zeek/ftp-many-port-expected.pcap"
        let rows = try groundTruthRows().filter { $0.file == file }
        #expect(rows.count == 500)
        #expect(rows.allSatisfy { $0.kind == .policy && $0.isBounce })
        let trace = try TraceLoader.loadComplete(path: try sharedTracesDirectory().appendingPathComponent(file).path)
        let pipeline = DefaultPipeline()
        let packets = replay(trace, through: pipeline)
        #expect(pipeline.algs.stats.rejected(.addressNotControlPeer) == 500)
        #expect(pipeline.algs.stats.ftpRejectedTotal == 500)
        #expect(pipeline.algs.stats.expectationsAnnounced == 0)
        #expect(pipeline.partition.expectations.stats.created == 0)
        #expect(pipeline.partition.expectations.isEmpty)
        for row in rows { #expect(packets[row.announceIndex].verdict.state.contains(.invalid), "\(row)") }
        #expect(packets.filter { $0.verdict.state.contains(.invalid) }.count == 500)
        #expect(relatedIndices(packets).isEmpty)
    }
}
