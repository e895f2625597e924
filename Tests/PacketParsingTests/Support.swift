/// Test helpers: hex decoding, one-call parsing, and the header fragments the vectors share.
import PacketParsing

/// Decodes a hex string; spaces and newlines are ignored (they only group bytes for reading).
func bytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var high: UInt8? = nil
    for c in hex.unicodeScalars {
        let v: UInt8
        switch c {
        case "0"..."9": v = UInt8(c.value - 48)
        case "a"..."f": v = UInt8(c.value - 87)
        case "A"..."F": v = UInt8(c.value - 55)
        case " ", "\n": continue
        default: preconditionFailure("bad hex character \(c)")
        }
        if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
    }
    precondition(high == nil, "odd number of hex digits")
    return out
}

/// Parses `hex` as one frame of `link`; `wireLength` defaults to the captured length (not snapped).
func parse(_ hex: String, link: LinkType = .ethernet, wireLength: Int? = nil) -> (ParseOutcome, ParsedPacket) {
    let frame = bytes(hex)
    var packet = ParsedPacket()
    let outcome = frame.withUnsafeBytes {
        PacketParser(linkType: link).parse($0, wireLength: wireLength ?? frame.count, into: &packet)
    }
    return (outcome, packet)
}

/// `parseEmbedded` on the frame `hex` at `offset`.
func embedded(_ hex: String, at offset: Int) -> FlowKey? {
    bytes(hex).withUnsafeBytes { PacketParser(linkType: .ethernet).parseEmbedded($0, at: offset) }
}

/// 10.0.0.1, 10.0.0.2, 2001:db8::1, 2001:db8::2: the endpoints of the hand-built vectors.
let A = IPAddress(v4: 0x0a00_0001)
let B = IPAddress(v4: 0x0a00_0002)
let A6 = IPAddress(high: 0x2001_0db8_0000_0000, low: 1)
let B6 = IPAddress(high: 0x2001_0db8_0000_0000, low: 2)

/// Header fragments, hand-built per RFC 894 (Ethernet), 791 (IPv4), 8200 (IPv6), 768 (UDP),
/// 9293 (TCP). Checksums are 0: the parser does not verify them. The extension-header chain,
/// AH, window-scale SYN, ICMP/ICMPv6 error, IPv6 fragment and triple-VLAN vectors were written
/// to a pcap once and decoded by tshark 4.0.17, which read them as these comments describe.
enum H {
    /// Ethernet II addresses: to 02:00:00:00:00:02 from 02:00:00:00:00:01.
    static let macs = "020000000002 020000000001"
    static let eth4 = macs + " 0800"
    static let eth6 = macs + " 86dd"

    static let addrA = "0a000001"
    static let addrB = "0a000002"
    static let addrA6 = "20010db8000000000000000000000001"
    static let addrB6 = "20010db8000000000000000000000002"

    /// IPv4 / UDP 10.0.0.1:5353 > 10.0.0.2:53, 4 bytes of payload: 32 bytes.
    static let ip4udp = "4500 0020 0002 0000 4011 0000 " + addrA + addrB + udp12
    /// UDP 5353 > 53, length 12, payload de ad be ef.
    static let udp12 = "14e9 0035 000c 0000 deadbeef"
    /// IPv4 / TCP 10.0.0.1:49152 > 10.0.0.2:80, ACK|PSH, 5 bytes "hello": 45 bytes.
    static let ip4tcp = "4500 002d 0001 4000 4006 0000 " + addrA + addrB + tcpAckPsh + "68656c6c6f"
    /// TCP 49152 > 80, seq 0x01020304, ack 0x05060708, data offset 5, ACK|PSH, window 0xfaf0.
    static let tcpAckPsh = "c000 0050 01020304 05060708 5018 faf0 0000 0000"
    /// IPv6 header, next header and payload length to be appended by the caller:
    /// `ip6(next: "11", payloadLength: "000c")`.
    static func ip6(next: String, payloadLength: String, src: String = addrA6, dst: String = addrB6) -> String {
        "6000 0000 " + payloadLength + " " + next + " 40 " + src + dst
    }
    /// IPv6 / UDP 2001:db8::1:5353 > 2001:db8::2:53, 4 bytes of payload: 52 bytes.
    static let ip6udp = ip6(next: "11", payloadLength: "000c") + udp12
}
