import Foundation
import PacketParsing
import Testing
import TraceIO
@testable import TraceSynthesis

func smallConfig(seed: UInt64 = 7) -> GeneratorConfig {
    var c = GeneratorConfig(preset: .sample)
    c.seed = seed
    c.packets = 2_000
    c.tcpFlows = 40
    return c
}

@Suite struct GeneratorTests {
    @Test func sameConfigSameBytesDifferentSeedDifferentBytes() {
        let a = TraceGenerator(config: smallConfig()).generate().trace
        let b = TraceGenerator(config: smallConfig()).generate().trace
        let c = TraceGenerator(config: smallConfig(seed: 8)).generate().trace
        #expect(a.bytes == b.bytes)
        #expect(a.entries == b.entries)
        #expect(a.bytes != c.bytes)
    }

    @Test(arguments: [
        (GeneratorPreset.sample, 3_000, nil as Int?),
        (.sample, 5_001, 100),
        (.sample, 12_345, nil),
    ])
    func packetCountMatchesTheConfig(preset: GeneratorPreset, packets: Int, flows: Int?) {
        var config = GeneratorConfig(preset: preset)
        config.packets = packets
        config.tcpFlows = flows
        let (trace, summary) = TraceGenerator(config: config).generate()
        #expect(trace.count == packets)
        #expect(summary.packets == packets)
        #expect(summary.bytes == trace.totalBytes)
        if let flows { #expect(summary.tcpFlows == flows) }
        #expect(summary.udpFlows == Int(Double(packets) * config.udpShare / 2))
        #expect(summary.icmpFlows == Int(Double(packets) * config.icmpShare / 2))
        #expect(summary.tftpSessions == config.tftpSessions)
        #expect(summary.ftpSessionTotal == config.ftpSessionsPerMode * config.ftpModes.count)
    }

    @Test func everyChecksumVerifies() {
        var config = smallConfig()
        config.ipv6Share = 0.5
        let trace = TraceGenerator(config: config).generate().trace
        var families = Set<Int>(), protocols = Set<UInt8>(), tagged = 0, qinq = 0
        for frame in trace.frames {
            guard let d = decode(frame) else { Issue.record("undecodable frame"); continue }
            #expect(d.ipv4HeaderOK)
            #expect(d.l4ChecksumOK, "bad L4 checksum, proto \(d.proto) \(d.srcText) -> \(d.dstText)")
            families.insert(d.ipVersion)
            protocols.insert(d.proto)
            if !d.vlans.isEmpty { tagged += 1 }
            if d.vlans.count == 2 { qinq += 1 }
        }
        #expect(families == [4, 6])
        #expect(protocols == [1, 6, 17, 58])
        #expect(tagged > trace.count / 2)
        #expect(qinq > 0)
    }

    @Test func tcpSequenceNumbersAreConsistent() {
        // Per direction, each segment's seq is the previous seq + its length (+1 for SYN/FIN).
        var config = smallConfig()
        config.vlan = false
        let trace = TraceGenerator(config: config).generate().trace
        var next: [String: UInt32] = [:]
        var lastSeq: [String: UInt32] = [:]
        for frame in trace.frames {
            guard let d = decode(frame), d.proto == 6 else { continue }
            let key = "\(d.srcText):\(d.srcPort)>\(d.dstText):\(d.dstPort)"
            let reverse = "\(d.dstText):\(d.dstPort)>\(d.srcText):\(d.srcPort)"
            if let expected = next[key] { #expect(d.seq == expected, "\(key)") }
            if d.tcpFlags & 0x10 != 0, let peer = next[reverse] { #expect(d.ack == peer, "\(key) ack") }
            let advance = UInt32(d.payload.count) + (d.tcpFlags & 0x03 != 0 ? 1 : 0)
            next[key] = d.seq &+ advance
            lastSeq[key] = d.seq
        }
        #expect(next.count > 80)
    }
}

@Suite struct FTPAndTFTPTests {
    static let trace: [DecodedFrame] = {
        var config = GeneratorConfig(preset: .ftp)
        config.ftpSessionsPerMode = 3
        config.tftpSessions = 6
        config.vlan = true
        return TraceGenerator(config: config).generate().trace.frames.compactMap(decode)
    }()

    func syn(from src: String? = nil, srcPort: UInt16? = nil, to dst: String, port: UInt16) -> DecodedFrame? {
        Self.trace.first {
            $0.proto == 6 && $0.isSYN && $0.dstText == dst && $0.dstPort == port
                && (src == nil || $0.srcText == src) && (srcPort == nil || $0.srcPort == srcPort)
        }
    }

    @Test func portAndEPRTAnnounceTheClientAndTheServerConnectsFromPort20() throws {
        var counts = ["PORT": 0, "EPRT |1|": 0, "EPRT |2|": 0]
        for d in Self.trace where d.proto == 6 && d.dstPort == 21 {
            let line = d.text
            if line.hasPrefix("PORT ") {
                let numbers = line.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").compactMap { Int($0) }
                try #require(numbers.count == 6)
                #expect(numbers[0..<4].map(String.init).joined(separator: ".") == d.srcText)
                let port = UInt16(numbers[4] * 256 + numbers[5])
                #expect(syn(from: d.dstText, srcPort: 20, to: d.srcText, port: port) != nil, "no data SYN for \(line)")
                #expect(port != d.srcPort)
                counts["PORT"]! += 1
            } else if line.hasPrefix("EPRT ") {
                let fields = line.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|", omittingEmptySubsequences: false)
                try #require(fields.count == 5)
                #expect(fields[1] == (d.ipVersion == 6 ? "2" : "1"))
                #expect(String(fields[2]) == d.srcText)
                let port = try #require(UInt16(fields[3]))
                #expect(syn(from: d.dstText, srcPort: 20, to: d.srcText, port: port) != nil, "no data SYN for \(line)")
                counts["EPRT |\(fields[1])|"]! += 1
            }
        }
        #expect(counts == ["PORT": 3, "EPRT |1|": 3, "EPRT |2|": 3])
        // The server acknowledges each with 200.
        #expect(Self.trace.filter { $0.srcPort == 21 && $0.text.hasPrefix("200 PORT command successful") }.count == 3)
        #expect(Self.trace.filter { $0.srcPort == 21 && $0.text.hasPrefix("200 EPRT command successful") }.count == 6)
    }

    @Test func pasvAndEPSVAnnounceTheServerAndTheClientConnects() throws {
        var pasv = 0, epsv4 = 0, epsv6 = 0
        for d in Self.trace where d.proto == 6 && d.srcPort == 21 {
            let line = d.text
            if line.hasPrefix("227 ") {
                let inside = try #require(line.split(separator: "(").last?.split(separator: ")").first)
                let numbers = inside.split(separator: ",").compactMap { Int($0) }
                try #require(numbers.count == 6)
                #expect(numbers[0..<4].map(String.init).joined(separator: ".") == d.srcText)
                let port = UInt16(numbers[4] * 256 + numbers[5])
                #expect(line.hasPrefix("227 Entering Passive Mode ("))
                #expect(syn(from: d.dstText, to: d.srcText, port: port) != nil, "no data SYN for \(line)")
                pasv += 1
            } else if line.hasPrefix("229 ") {
                #expect(line.hasPrefix("229 Entering Extended Passive Mode (|||"))
                let port = try #require(UInt16(line.split(separator: "|")[1]))
                #expect(syn(from: d.dstText, to: d.srcText, port: port) != nil, "no data SYN for \(line)")
                if d.ipVersion == 6 { epsv6 += 1 } else { epsv4 += 1 }
            }
        }
        #expect(pasv == 3 && epsv4 == 3 && epsv6 == 3, "\(pasv) \(epsv4) \(epsv6)")
    }

    @Test func controlDialogueIsComplete() {
        let server = Self.trace.filter { $0.proto == 6 && $0.srcPort == 21 }.map(\.text)
        for code in ["220 ", "331 ", "230 ", "150 ", "226 ", "221 "] {
            #expect(server.filter { $0.hasPrefix(code) }.count == 18, "\(code)")
        }
    }

    @Test func tftpServerAnswersFromANewPort() throws {
        let requests = Self.trace.filter { $0.proto == 17 && $0.dstPort == 69 }
        #expect(requests.count == 6)
        #expect(Set(requests.map { be16($0.payload, 0) }) == [1, 2])
        for r in requests {
            let answers = Self.trace.filter { $0.proto == 17 && $0.dstText == r.srcText && $0.dstPort == r.srcPort }
            let first = try #require(answers.first)
            #expect(first.srcText == r.dstText)
            #expect(first.srcPort != 69)
            #expect(Set(answers.map(\.srcPort)).count == 1)
            // RRQ gets DATA block 1, WRQ gets ACK block 0.
            let opcode = be16(r.payload, 0)
            #expect(be16(first.payload, 0) == (opcode == 1 ? 3 : 4))
            #expect(be16(first.payload, 2) == (opcode == 1 ? 1 : 0))
            #expect(!Self.trace.contains { $0.proto == 17 && $0.srcPort == 69 })
        }
    }
}
