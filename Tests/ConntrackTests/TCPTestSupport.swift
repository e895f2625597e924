import Conntrack
import PacketParsing

/// Flow keys for the tests. The tracker never reads the key; the tests show both families anyway.
enum TestKeys {
    static let v4 = FlowKey(
        src: IPAddress(v4: 0x0A00_0001), dst: IPAddress(v4: 0x0A00_0002),
        srcPort: 40_000, dstPort: 80, proto: IPProtocol.tcp, family: .ipv4)
    static let v6 = FlowKey(
        src: IPAddress(high: 0x2001_0DB8_0000_0000, low: 1),
        dst: IPAddress(high: 0x2001_0DB8_0000_0000, low: 2),
        srcPort: 40_000, dstPort: 443, proto: IPProtocol.tcp, family: .ipv6)
}

/// A TCP segment as the parser would describe it. `reply` reverses the key.
func segment(
    _ flags: TCPFlags, seq: UInt32, ack: UInt32 = 0, window: UInt16 = 64_240, length: UInt32 = 0,
    wscale: UInt8 = TCPWindowScale.absent, key: FlowKey = TestKeys.v4, reply: Bool = false
) -> ParsedPacket {
    var p = ParsedPacket()
    p.key = reply ? key.reversed : key
    p.etherType = key.family == .ipv4 ? 0x0800 : 0x86DD
    let ipHeader: UInt32 = key.family == .ipv4 ? 20 : 40
    p.l3Offset = 14
    p.l4Offset = 14 + ipHeader
    p.payloadOffset = p.l4Offset + 20
    p.payloadLength = length
    p.l3Length = ipHeader + 20 + length
    p.ipTTL = 64
    p.tcpFlags = flags
    p.tcpSeq = seq
    p.tcpAck = ack
    p.tcpWindow = window
    p.tcpWindowScale = wscale
    return p
}

/// The ISNs and windows of a handshake; `scale` is offered in both SYNs when given.
struct Handshake {
    var client: UInt32 = 1000
    var server: UInt32 = 5000
    var clientScale: UInt8 = TCPWindowScale.absent
    var serverScale: UInt8 = TCPWindowScale.absent
    var key: FlowKey = TestKeys.v4

    var syn: ParsedPacket {
        segment(.syn, seq: client, window: 64_240, wscale: clientScale, key: key)
    }
    var synAck: ParsedPacket {
        // Wrapping: the ISN plus one, in sequence space.
        segment([.syn, .ack], seq: server, ack: client &+ 1, window: 65_160, wscale: serverScale,
                key: key, reply: true)
    }
    /// Both SYNs offer a window scale, so later windows are scaled.
    var scaled: Bool {
        clientScale != TCPWindowScale.absent && serverScale != TCPWindowScale.absent
    }
    var ack: ParsedPacket {
        segment(.ack, seq: client &+ 1, ack: server &+ 1, window: scaled ? 502 : 64_240, key: key)
    }

    /// Runs the three packets, expecting each to be accepted, and returns the tracker.
    func established() -> TCPTracker? {
        guard var t = TCPTracker.start(syn) else { return nil }
        guard t.update(synAck, isReply: true) == .valid else { return nil }
        guard t.update(ack, isReply: false) == .valid else { return nil }
        return t
    }
}
