/// One vector per malformed outcome (each asserting the exact outcome), a check that every
/// `ParseOutcome` case has a vector, and robustness over every prefix of every vector.
import Testing
import PacketParsing

/// A named frame and the outcome it must give.
struct Vector: CustomTestStringConvertible, Sendable {
    let name: String
    let hex: String
    var link: LinkType = .ethernet
    var wireLength: Int? = nil
    let outcome: ParseOutcome
    var testDescription: String { name }
}

/// Hand-built (per the RFCs named in the other test files) unless said otherwise.
let outcomeVectors: [Vector] = [
    Vector(name: "ok", hex: H.eth4 + H.ip4tcp, outcome: .ok),
    Vector(name: "arp", hex: "ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000002", outcome: .arp),
    Vector(name: "ethertype 0x88b5 (local experimental)", hex: H.macs + "88b5 0000", outcome: .unsupportedEtherType),
    Vector(name: "DLT 105", hex: H.ip4udp, link: LinkType(rawValue: 105), outcome: .unsupportedLinkType),

    Vector(name: "Ethernet, 13 bytes", hex: "020000000002 020000000001 08", outcome: .truncatedLinkHeader),
    Vector(name: "SLL, 15 bytes", hex: "0000 0001 0006 020000000001 0000 08", link: .linuxSLL, outcome: .truncatedLinkHeader),
    Vector(name: "SLL2, 19 bytes", hex: "0800 0000 00000002 0001 00 06 020000000001 00", link: .linuxSLL2, outcome: .truncatedLinkHeader),
    Vector(name: "NULL, 3 bytes", hex: "020000", link: .null, outcome: .truncatedLinkHeader),
    Vector(name: "LOOP, 2 bytes", hex: "0000", link: .loop, outcome: .truncatedLinkHeader),
    Vector(name: "raw, empty", hex: "", link: .raw, outcome: .truncatedLinkHeader),
    Vector(name: "VLAN tag cut", hex: H.macs + "8100 0064 08", outcome: .truncatedVLANTag),
    Vector(name: "second VLAN tag cut", hex: H.macs + "88a8 00c8 8100 00", outcome: .truncatedVLANTag),
    Vector(name: "five VLAN tags", hex: H.macs + "8100 0001 8100 0002 8100 0003 8100 0004 8100 0005 0800" + H.ip4udp, outcome: .tooManyVLANTags),

    Vector(name: "IPv4 header, 19 bytes", hex: H.eth4 + "4500 0028 0001 4000 4006 0000 0a000001 0a0000", outcome: .truncatedIPv4Header),
    Vector(name: "LINKTYPE_IPV4, 10 bytes", hex: "4500 0028 0001 4000 4006", link: .ipv4, outcome: .truncatedIPv4Header),
    Vector(name: "version 6 under ethertype IPv4", hex: H.eth4 + "6500 0028 0001 4000 4006 0000 " + H.addrA + H.addrB + H.tcpAckPsh, outcome: .badIPVersion),
    Vector(name: "version 4 under ethertype IPv6", hex: H.eth6 + "4500 0034 0001 4000 4011 0000 " + H.addrA + H.addrB + String(repeating: "00", count: 32), outcome: .badIPVersion),
    Vector(name: "raw IP, version 5", hex: "5500 0028 0001 4000 4006 0000 " + H.addrA + H.addrB, link: .raw, outcome: .badIPVersion),
    Vector(name: "IHL 4", hex: H.eth4 + "4400 0028 0001 4000 4006 0000 " + H.addrA + H.addrB + H.tcpAckPsh, outcome: .badIPv4HeaderLength),
    Vector(name: "IHL 15 beyond capture", hex: H.eth4 + "4f00 0028 0001 4000 4006 0000 " + H.addrA + H.addrB + H.tcpAckPsh, outcome: .badIPv4HeaderLength),
    Vector(name: "total length 19", hex: H.eth4 + "4500 0013 0001 4000 4006 0000 " + H.addrA + H.addrB + H.tcpAckPsh, outcome: .badIPv4TotalLength),
    Vector(name: "IHL 6, total length 23", hex: H.eth4 + "4600 0017 0001 4000 4006 0000 " + H.addrA + H.addrB + "01010100" + H.tcpAckPsh, outcome: .badIPv4TotalLength),
    Vector(name: "IPv4 total length 100, 45 captured, not snapped", hex: H.eth4 + "4500 0064 0001 4000 4006 0000 " + H.addrA + H.addrB + H.tcpAckPsh + "68656c6c6f", outcome: .ipv4LengthBeyondCapture),

    Vector(name: "IPv6 header, 39 bytes", hex: H.eth6 + "6000 0000 000c 1140 " + H.addrA6 + "20010db80000000000000000000000", outcome: .truncatedIPv6Header),
    Vector(name: "IPv6 payload length 100, 12 captured, not snapped", hex: H.eth6 + H.ip6(next: "11", payloadLength: "0064") + H.udp12, outcome: .ipv6LengthBeyondCapture),
    Vector(name: "hop-by-hop longer than the payload", hex: H.eth6 + H.ip6(next: "00", payloadLength: "0008") + "1101 0104 00000000", outcome: .truncatedIPv6ExtensionHeader),
    Vector(name: "hop-by-hop cut at 4 bytes", hex: H.eth6 + H.ip6(next: "00", payloadLength: "0004") + "1100 0104", outcome: .truncatedIPv6ExtensionHeader),
    Vector(name: "fragment header cut", hex: H.eth6 + H.ip6(next: "2c", payloadLength: "0006") + "1100 0001 1234", outcome: .truncatedIPv6ExtensionHeader),
    Vector(name: "AH longer than the payload", hex: H.eth6 + H.ip6(next: "33", payloadLength: "000c") + "1104 0000 00001000 00000001", outcome: .truncatedIPv6ExtensionHeader),
    Vector(name: "nine destination-options headers", hex: H.eth6 + H.ip6(next: "3c", payloadLength: "0054") + String(repeating: "3c00 0104 00000000", count: 8) + "1100 0104 00000000" + H.udp12, outcome: .tooManyIPv6ExtensionHeaders),

    Vector(name: "TCP header, 10 bytes", hex: H.eth4 + "4500 001e 0001 4000 4006 0000 " + H.addrA + H.addrB + "c000 0050 01020304 0506", outcome: .truncatedTCPHeader),
    Vector(name: "TCP header past the IP length (padding after)", hex: H.eth4 + "4500 0024 0001 4000 4006 0000 " + H.addrA + H.addrB + H.tcpAckPsh, outcome: .truncatedTCPHeader),
    Vector(name: "IPv6 TCP header, 16 bytes", hex: H.eth6 + H.ip6(next: "06", payloadLength: "0010") + "c000 0050 01020304 05060708 5018 faf0", outcome: .truncatedTCPHeader),
    Vector(name: "TCP data offset 4", hex: H.eth4 + "4500 0028 0001 4000 4006 0000 " + H.addrA + H.addrB + "c000 0050 01020304 05060708 4018 faf0 0000 0000", outcome: .badTCPDataOffset),
    Vector(name: "TCP data offset 15 beyond the IP payload", hex: H.eth4 + "4500 0028 0001 4000 4006 0000 " + H.addrA + H.addrB + "c000 0050 01020304 05060708 f018 faf0 0000 0000", outcome: .badTCPDataOffset),
    Vector(name: "UDP header, 4 bytes", hex: H.eth4 + "4500 0018 0002 0000 4011 0000 " + H.addrA + H.addrB + "14e9 0035", outcome: .truncatedUDPHeader),
    Vector(name: "UDP length 4", hex: H.eth4 + "4500 0020 0002 0000 4011 0000 " + H.addrA + H.addrB + "14e9 0035 0004 0000 deadbeef", outcome: .badUDPLength),
    Vector(name: "UDP length 32 beyond the IP payload", hex: H.eth4 + "4500 0020 0002 0000 4011 0000 " + H.addrA + H.addrB + "14e9 0035 0020 0000 deadbeef", outcome: .badUDPLength),
    Vector(name: "IPv6 UDP length 13 beyond the IP payload", hex: H.eth6 + H.ip6(next: "11", payloadLength: "000c") + "14e9 0035 000d 0000 deadbeef", outcome: .badUDPLength),
    Vector(name: "ICMP echo header, 6 bytes", hex: H.eth4 + "4500 001a 0006 0000 4001 0000 " + H.addrA + H.addrB + "0800 0000 1234", outcome: .truncatedICMPHeader),
    Vector(name: "ICMP error header, 7 bytes", hex: H.eth4 + "4500 001b 0006 0000 4001 0000 " + H.addrA + H.addrB + "0303 0000 000000", outcome: .truncatedICMPHeader),
    Vector(name: "ICMP timestamp, 3 bytes", hex: H.eth4 + "4500 0017 0006 0000 4001 0000 " + H.addrA + H.addrB + "0d00 00", outcome: .truncatedICMPHeader),
    Vector(name: "ICMPv6 echo header, 4 bytes", hex: H.eth6 + H.ip6(next: "3a", payloadLength: "0004") + "8000 0000", outcome: .truncatedICMPHeader),
    Vector(name: "SCTP common header, 8 bytes", hex: H.eth4 + "4500 001c 000a 4000 4084 0000 " + H.addrA + H.addrB + "1388 8e3c 00000001", outcome: .truncatedSCTPHeader),
]

@Suite struct MalformedTests {
    @Test(arguments: outcomeVectors)
    func exactOutcome(_ vector: Vector) {
        let (outcome, _) = parse(vector.hex, link: vector.link, wireLength: vector.wireLength)
        #expect(outcome == vector.outcome, "\(vector.name)")
    }

    /// Every outcome, `.ok` included, has at least one vector above.
    @Test func everyOutcomeHasAVector() {
        let covered = Set(outcomeVectors.map(\.outcome.rawValue))
        for outcome in ParseOutcome.allCases {
            #expect(covered.contains(outcome.rawValue), "no vector for \(outcome.name)")
        }
    }

    /// The malformed outcomes are the ones `isMalformed` says.
    @Test func isMalformed() {
        #expect(!ParseOutcome.ok.isMalformed && !ParseOutcome.arp.isMalformed)
        #expect(!ParseOutcome.unsupportedEtherType.isMalformed && !ParseOutcome.unsupportedLinkType.isMalformed)
        #expect(ParseOutcome.truncatedSCTPHeader.isMalformed && ParseOutcome.badTCPDataOffset.isMalformed)
        #expect(ParseOutcome.allCases.filter(\.isMalformed).count == ParseOutcome.allCases.count - 4)
    }

    /// Every prefix of every vector in this target, under every supported link type, both
    /// snapped and not, parses without trapping; the parser never reads past `count`
    /// (the buffer is copied to an exact-size allocation so that a sanitiser would see it).
    @Test func everyPrefixIsSafe() {
        let frames = outcomeVectors.map(\.hex) + [
            H.eth4 + H.ip4udp, H.eth6 + H.ip6udp, ICMPTests.unreachableUDP, ICMPTests.timeExceededTCP,
            ICMPTests.icmpv6Unreachable, H.eth4 + TransportTests.ip4Syn,
        ]
        let links: [LinkType] = [.ethernet, .linuxSLL, .linuxSLL2, .null, .loop, .raw, .ipv4, .ipv6]
        var okCount = 0
        for hex in frames {
            let full = bytes(hex)
            for length in 0...full.count {
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 1)
                defer { buffer.deallocate() }
                buffer.copyBytes(from: full[..<length])
                for link in links {
                    for wire in [length, full.count + 100] {
                        var p = ParsedPacket()
                        let parser = PacketParser(linkType: link)
                        if parser.parse(UnsafeRawBufferPointer(buffer), wireLength: wire, into: &p) == .ok {
                            okCount += 1
                            #expect(Int(p.payloadOffset) + Int(p.payloadLength) <= length)
                            #expect(Int(p.l4Offset) <= length)
                            if p.icmpInnerOffset != 0 {
                                _ = parser.parseEmbedded(UnsafeRawBufferPointer(buffer), at: Int(p.icmpInnerOffset))
                            }
                        }
                    }
                }
            }
        }
        #expect(okCount > 100)
    }

    /// Pseudo-random bytes (a fixed xorshift sequence) behind valid headers never trap.
    @Test func randomTailsAreSafe() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let heads = [bytes(H.eth4 + "4500 0030 0001 0000 4006 0000" + H.addrA + H.addrB),
                     bytes(H.eth6 + "6000 0000 0030 0040" + H.addrA6 + H.addrB6)]
        for round in 0..<4000 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            var frame = heads[round % 2]
            // Randomise the next-header / protocol byte, then a random tail.
            frame[round % 2 == 0 ? 23 : 20] = UInt8(truncatingIfNeeded: state)
            for _ in 0..<(Int(state >> 58)) {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                frame.append(UInt8(truncatingIfNeeded: state))
            }
            var p = ParsedPacket()
            let parser = PacketParser(linkType: .ethernet)
            let outcome = frame.withUnsafeBytes { parser.parse($0, wireLength: frame.count + Int(state & 1) * 50, into: &p) }
            if outcome == .ok {
                #expect(Int(p.payloadOffset) + Int(p.payloadLength) <= frame.count)
                if p.icmpInnerOffset != 0 {
                    _ = frame.withUnsafeBytes { parser.parseEmbedded($0, at: Int(p.icmpInnerOffset)) }
                }
            }
        }
    }
}
