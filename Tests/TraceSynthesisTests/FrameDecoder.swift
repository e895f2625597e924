/// A small frame decoder and checksum verifier for the tests, written independently of
/// PacketBuilder and of PacketParsing's parser.
struct DecodedFrame {
    var vlans: [UInt16] = []
    var ipVersion = 0
    var src: [UInt8] = []
    var dst: [UInt8] = []
    var proto: UInt8 = 0
    var srcPort: UInt16 = 0
    var dstPort: UInt16 = 0
    var tcpFlags: UInt8 = 0
    var seq: UInt32 = 0
    var ack: UInt32 = 0
    var payload: [UInt8] = []
    var ipv4HeaderOK = true
    var l4ChecksumOK = true

    var srcText: String { addressText(src) }
    var dstText: String { addressText(dst) }
    var text: String { String(decoding: payload, as: UTF8.self) }
    var isSYN: Bool { tcpFlags & 0x02 != 0 && tcpFlags & 0x10 == 0 }
}

func be16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
func be32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(be16(b, i)) << 16 | UInt32(be16(b, i + 2)) }

/// RFC 1071 sum over 16-bit big-endian words.
func onesSum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var sum: UInt32 = 0
    var i = bytes.startIndex
    while i < bytes.endIndex {
        let hi = UInt32(bytes[i])
        let lo = i + 1 < bytes.endIndex ? UInt32(bytes[i + 1]) : 0
        sum += hi << 8 | lo
        i += 2
    }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    return sum
}

/// Text form used to compare with FTP lines: dotted quad, or lowercase hex groups compressed per RFC 5952.
func addressText(_ a: [UInt8]) -> String {
    if a.count == 4 { return a.map(String.init).joined(separator: ".") }
    let groups = stride(from: 0, to: 16, by: 2).map { UInt16(a[$0]) << 8 | UInt16(a[$0 + 1]) }
    var best = (start: -1, length: 1), i = 0
    while i < 8 {
        if groups[i] == 0 {
            var j = i
            while j < 8 && groups[j] == 0 { j += 1 }
            if j - i > best.length { best = (i, j - i) }
            i = j
        } else { i += 1 }
    }
    let hex = groups.map { String($0, radix: 16) }
    if best.start < 0 { return hex.joined(separator: ":") }
    return hex[..<best.start].joined(separator: ":") + "::" + hex[(best.start + best.length)...].joined(separator: ":")
}

func decode(_ frame: [UInt8]) -> DecodedFrame? {
    var d = DecodedFrame()
    var at = 12
    var type = be16(frame, at)
    while type == 0x8100 || type == 0x88A8 {
        d.vlans.append(be16(frame, at + 2) & 0x0fff)
        at += 4
        type = be16(frame, at)
    }
    let l3 = at + 2
    var l4: Int, l4Length: Int
    var pseudo: UInt32 = 0
    switch type {
    case 0x0800:
        d.ipVersion = 4
        let ihl = Int(frame[l3] & 0x0f) * 4
        d.ipv4HeaderOK = onesSum(frame[l3..<l3 + ihl]) == 0xffff
        d.proto = frame[l3 + 9]
        d.src = Array(frame[l3 + 12..<l3 + 16]); d.dst = Array(frame[l3 + 16..<l3 + 20])
        l4 = l3 + ihl
        l4Length = Int(be16(frame, l3 + 2)) - ihl
        pseudo = onesSum(frame[l3 + 12..<l3 + 20]) + UInt32(d.proto) + UInt32(l4Length)
    case 0x86DD:
        d.ipVersion = 6
        d.proto = frame[l3 + 6]
        d.src = Array(frame[l3 + 8..<l3 + 24]); d.dst = Array(frame[l3 + 24..<l3 + 40])
        l4 = l3 + 40
        l4Length = Int(be16(frame, l3 + 4))
        pseudo = onesSum(frame[l3 + 8..<l3 + 40]) + UInt32(d.proto) + UInt32(l4Length)
    default:
        return nil
    }
    guard l4 + l4Length <= frame.count else { return nil }
    let segment = frame[l4..<l4 + l4Length]
    var sum = onesSum(segment) + (d.proto == 1 ? 0 : pseudo)
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    d.l4ChecksumOK = sum == 0xffff
    switch d.proto {
    case 6:
        d.srcPort = be16(frame, l4); d.dstPort = be16(frame, l4 + 2)
        d.seq = be32(frame, l4 + 4); d.ack = be32(frame, l4 + 8)
        d.tcpFlags = frame[l4 + 13]
        let dataOffset = Int(frame[l4 + 12] >> 4) * 4
        d.payload = Array(frame[(l4 + dataOffset)..<(l4 + l4Length)])
    case 17:
        d.srcPort = be16(frame, l4); d.dstPort = be16(frame, l4 + 2)
        d.payload = Array(frame[(l4 + 8)..<(l4 + l4Length)])
    default:
        d.payload = Array(segment)
    }
    return d
}
