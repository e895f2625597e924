import Conntrack
import Foundation
import PacketParsing
import Testing
import TraceSynthesis

/// The addresses of one test network, per address family: a client, a server and a router
/// between them (the router sends the ICMP errors).
enum Net: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case ipv4
    case ipv6

    var client: Endpoint { self == .ipv4 ? Endpoint(ip: "10.1.1.1", port: 40000) : Endpoint(ip: "2001:db8::1", port: 40000) }
    var server: Endpoint { self == .ipv4 ? Endpoint(ip: "10.1.1.2", port: 80) : Endpoint(ip: "2001:db8::2", port: 80) }
    var router: IPAddress { self == .ipv4 ? Endpoint(ip: "10.1.1.254").address : Endpoint(ip: "2001:db8::fe").address }
    /// Bytes before the transport header in a frame the builder makes (Ethernet + IP header).
    var l4Offset: Int { self == .ipv4 ? 14 + 20 : 14 + 40 }
    /// IP protocol of this family's ICMP.
    var icmpProto: UInt8 { self == .ipv4 ? IPProtocol.icmp : IPProtocol.icmpv6 }

    var testDescription: String { rawValue }

    /// A conversation between `client` (with another source port when given) and `server`.
    func conversation(clientPort: UInt16 = 40000, clientISN: UInt32 = 1_000, serverISN: UInt32 = 500_000) -> TCPConversation {
        TCPConversation(client: client.with(port: clientPort), server: server,
                        clientISN: clientISN, serverISN: serverISN)
    }

    /// The `src=..,dst=..,sport=..,dport=..` part of a dump line, original direction.
    func dumpTuples(clientPort: UInt16 = 40000, serverPort: UInt16 = 80) -> String {
        let c = client.address, s = server.address
        return "orig=(src=\(c),dst=\(s),sport=\(clientPort),dport=\(serverPort)),"
            + "reply=(src=\(s),dst=\(c),sport=\(serverPort),dport=\(clientPort))"
    }
}

/// Parses a frame built by `PacketBuilder` (Ethernet) and records an issue when it is not `.ok`.
func parse(_ frame: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> ParsedPacket {
    var packet = ParsedPacket()
    let outcome = frame.withUnsafeBytes {
        PacketParser(linkType: .ethernet).parse($0, wireLength: frame.count, into: &packet)
    }
    #expect(outcome == .ok, "frame did not parse: \(outcome.name)", sourceLocation: sourceLocation)
    return packet
}

/// One partition fed with real frames: parses each frame, numbers it (its index becomes the id
/// of a connection it commits) and runs it through `process` with the hash the datapath uses.
final class FrameRunner {
    let ct: ConntrackPartition
    private(set) var nextIndex: UInt64 = 0
    /// Trace time of the next packet (ns); `step` is added after each packet.
    var time: UInt64 = 1_000_000_000
    var step: UInt64 = 1_000

    init(_ config: ConntrackConfig = ConntrackConfig()) {
        ct = ConntrackPartition(config: config)
    }

    /// Runs one frame: commit in zone 0 unless told otherwise.
    @discardableResult
    func run(_ frame: [UInt8], action: CTAction = CTAction(zone: 0, commit: true), at when: UInt64? = nil) -> CTVerdict {
        let packet = parse(frame)
        if let when { time = when }
        let index = nextIndex
        nextIndex += 1
        var key = packet.key
        key.zone = action.zone
        let verdict = frame.withUnsafeBytes {
            ct.process(packet, frame: $0, hash: ct.hash(key), packetIndex: index, time: time, action: action)
        }
        time += step
        return verdict
    }

    /// Runs frames in order and returns their verdicts.
    func run(_ frames: [[UInt8]], action: CTAction = CTAction(zone: 0, commit: true)) -> [CTVerdict] {
        frames.map { run($0, action: action) }
    }

    /// The index the next packet will get.
    var index: UInt64 { nextIndex }
}

/// ct_state shorthands, as OVS flows spell them.
enum S {
    static let new: CTState = [.tracked, .new]
    static let est: CTState = [.tracked, .established]
    static let estRpl: CTState = [.tracked, .established, .reply]
    static let inv: CTState = [.tracked, .invalid]
    static let rel: CTState = [.tracked, .related]
    static let relRpl: CTState = [.tracked, .related, .reply]
}

/// Flips every bit of the 16-bit field at `offset` (a checksum), so it is certainly wrong.
func corrupting(_ frame: [UInt8], at offset: Int) -> [UInt8] {
    var f = frame
    f[offset] ^= 0xFF
    f[offset + 1] ^= 0xFF
    return f
}

let second: UInt64 = 1_000_000_000
