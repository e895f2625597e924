import PacketParsing

/// Builds complete Ethernet frames, with correct IPv4 header and TCP/UDP/ICMP checksums.
///
/// The IP family follows the addresses (both IPv4 or both IPv6). MAC addresses are derived from
/// the IP addresses (02:00 followed by the address's last four bytes) unless overridden in
/// `PacketOptions`. Example:
///
///     let syn = PacketBuilder.tcp(from: Endpoint(ip: "10.1.1.1", port: 40000),
///                                 to: Endpoint(ip: "10.1.1.2", port: 21),
///                                 flags: .syn, seq: 1000, options: TCPOption.synDefaults)
public enum PacketBuilder {
    /// Ethernet (14) + VLAN tags.
    public static func linkHeaderLength(_ packet: PacketOptions) -> Int { 14 + 4 * packet.vlans.count }

    /// A TCP segment. `ack` is written whatever the flags (put `.ack` in `flags` to make it count).
    public static func tcp(
        from src: Endpoint, to dst: Endpoint, flags: TCPFlags, seq: UInt32 = 0, ack: UInt32 = 0,
        window: UInt16 = 65535, payload: [UInt8] = [], options: [TCPOption] = [],
        urgentPointer: UInt16 = 0, packet: PacketOptions = PacketOptions()
    ) -> [UInt8] {
        var opts = options.flatMap(\.bytes)
        while opts.count % 4 != 0 { opts.append(0) }
        precondition(opts.count <= 40, "TCP options longer than 40 bytes")
        let headerLength = 20 + opts.count
        var l4: [UInt8] = []
        l4.reserveCapacity(headerLength + payload.count)
        l4 += bigEndianBytes(src.port) + bigEndianBytes(dst.port)
        l4 += bigEndianBytes(seq) + bigEndianBytes(ack)
        l4 += [UInt8(headerLength / 4) << 4, flags.rawValue]
        l4 += bigEndianBytes(window) + [0, 0] + bigEndianBytes(urgentPointer)
        l4 += opts
        l4 += payload
        return assemble(src: src.address, dst: dst.address, proto: IPProtocol.tcp, l4: l4,
                        checksumAt: 16, packet: packet)
    }

    /// A UDP datagram.
    public static func udp(from src: Endpoint, to dst: Endpoint, payload: [UInt8] = [],
                           packet: PacketOptions = PacketOptions()) -> [UInt8] {
        let length = 8 + payload.count
        var l4 = bigEndianBytes(src.port) + bigEndianBytes(dst.port) + bigEndianBytes(UInt16(length)) + [0, 0]
        l4 += payload
        return assemble(src: src.address, dst: dst.address, proto: IPProtocol.udp, l4: l4,
                        checksumAt: 6, packet: packet)
    }

    /// An ICMP echo request or reply (ICMPv6 when the addresses are IPv6).
    public static func icmpEcho(from src: IPAddress, to dst: IPAddress, reply: Bool = false,
                                identifier: UInt16, sequence: UInt16, payload: [UInt8] = [],
                                packet: PacketOptions = PacketOptions()) -> [UInt8] {
        let v6 = src.v4 == nil
        let type: UInt8 = v6 ? (reply ? 129 : 128) : (reply ? 0 : 8)
        let l4 = [type, 0, 0, 0] + bigEndianBytes(identifier) + bigEndianBytes(sequence) + payload
        return assemble(src: src, dst: dst, proto: v6 ? IPProtocol.icmpv6 : IPProtocol.icmp, l4: l4,
                        checksumAt: 2, packet: packet)
    }

    /// An ICMP / ICMPv6 error from `router` about `offendingFrame` (a frame built by this builder,
    /// Ethernet with optional VLAN tags), sent back to the offending packet's source.
    ///
    /// Quotes the offending IP packet: by default its IPv4 header plus 8 bytes (RFC 792), or for
    /// IPv6 as much as fits in 1280 bytes (RFC 4443); `quoteBytes` overrides the length.
    public static func icmpError(_ kind: ICMPErrorKind, from router: IPAddress, about offendingFrame: [UInt8],
                                 quoteBytes: Int? = nil, packet: PacketOptions = PacketOptions()) -> [UInt8] {
        guard let l3 = ipHeaderOffset(in: offendingFrame) else {
            preconditionFailure("icmpError: offending frame has no IP header")
        }
        let v6 = offendingFrame[l3] >> 4 == 6
        let ipBytes = Array(offendingFrame[l3...])
        let sourceOfOffender = v6 ? ipv6Address(ipBytes, at: 8) : IPAddress(v4: readUInt32(ipBytes, at: 12))
        let defaultQuote = v6 ? 1280 - 40 - 8 : Int(ipBytes[0] & 0x0f) * 4 + 8
        let quote = Array(ipBytes.prefix(quoteBytes ?? defaultQuote))
        let (type, code) = kind.typeAndCode(ipv6: v6)
        var rest: [UInt8] = [0, 0, 0, 0]
        if case .fragmentationNeeded(let mtu) = kind {
            rest = v6 ? bigEndianBytes(mtu) : [0, 0] + bigEndianBytes(UInt16(truncatingIfNeeded: mtu))
        }
        let l4 = [type, code, 0, 0] + rest + quote
        return assemble(src: router, dst: sourceOfOffender, proto: v6 ? IPProtocol.icmpv6 : IPProtocol.icmp,
                        l4: l4, checksumAt: 2, packet: packet)
    }

    /// An IP packet carrying `payload` as protocol `proto`, with no L4 checksum work (for
    /// protocols the builder does not know, or deliberately broken headers).
    public static func ip(from src: IPAddress, to dst: IPAddress, protocol proto: UInt8, payload: [UInt8],
                          packet: PacketOptions = PacketOptions()) -> [UInt8] {
        assemble(src: src, dst: dst, proto: proto, l4: payload, checksumAt: nil, packet: packet)
    }

    /// Offset of the IP header in a frame built by this builder (after Ethernet and any VLAN tags).
    public static func ipHeaderOffset(in frame: [UInt8]) -> Int? {
        var at = 12
        while at + 2 <= frame.count {
            let type = UInt16(frame[at]) << 8 | UInt16(frame[at + 1])
            switch type {
            case 0x8100, 0x88A8, 0x9100: at += 4
            case 0x0800, 0x86DD: return at + 2 < frame.count ? at + 2 : nil
            default: return nil
            }
        }
        return nil
    }

    /// The MAC address derived from an IP address: 02:00 and the address's last four bytes.
    public static func mac(for address: IPAddress) -> [UInt8] {
        [0x02, 0x00] + bigEndianBytes(UInt32(truncatingIfNeeded: address.low))
    }

    // MARK: - Assembly

    /// Ethernet + VLANs + IP header + `l4`, with the IPv4 header checksum and (when
    /// `checksumAt` is given) the L4 checksum filled in. ICMPv4 has no pseudo header.
    static func assemble(src: IPAddress, dst: IPAddress, proto: UInt8, l4 source: [UInt8],
                         checksumAt: Int?, packet: PacketOptions) -> [UInt8] {
        let v6 = src.v4 == nil
        precondition(v6 == (dst.v4 == nil), "PacketBuilder: mixed IPv4/IPv6 addresses \(src) -> \(dst)")
        var l4 = source
        if let at = checksumAt {
            l4[at] = 0; l4[at + 1] = 0
            let pseudo = proto == IPProtocol.icmp ? 0 : Checksum.pseudoHeader(src: src, dst: dst, proto: proto, length: l4.count)
            var c = Checksum.finish(Checksum.sum(l4, 0..<l4.count, into: pseudo))
            if proto == IPProtocol.udp && c == 0 { c = 0xffff }
            l4[at] = UInt8(c >> 8); l4[at + 1] = UInt8(c & 0xff)
        }
        var frame: [UInt8] = []
        frame.reserveCapacity(linkHeaderLength(packet) + (v6 ? 40 : 20) + l4.count)
        frame += packet.destinationMAC ?? mac(for: dst)
        frame += packet.sourceMAC ?? mac(for: src)
        for tag in packet.vlans {
            frame += bigEndianBytes(tag.tpid) + bigEndianBytes(UInt16(tag.priority) << 13 | tag.vid)
        }
        if v6 {
            frame += [0x86, 0xDD]
            let first = UInt32(6) << 28 | UInt32(packet.tos) << 20 | (packet.flowLabel & 0xfffff)
            frame += bigEndianBytes(first) + bigEndianBytes(UInt16(l4.count)) + [proto, packet.ttl]
            frame += ipv6Bytes(src) + ipv6Bytes(dst)
        } else {
            frame += [0x08, 0x00]
            let l3 = frame.count
            let flags: UInt16 = (packet.dontFragment ? 0x4000 : 0) | (packet.moreFragments ? 0x2000 : 0)
            frame += [0x45, packet.tos] + bigEndianBytes(UInt16(20 + l4.count)) + bigEndianBytes(packet.identification)
            frame += bigEndianBytes(flags | (packet.fragmentOffset & 0x1fff)) + [packet.ttl, proto, 0, 0]
            frame += bigEndianBytes(src.v4!) + bigEndianBytes(dst.v4!)
            setIPv4Checksum(&frame, at: l3)
        }
        frame += l4
        return frame
    }

    static func setIPv4Checksum(_ frame: inout [UInt8], at l3: Int) {
        let ihl = Int(frame[l3] & 0x0f) * 4
        frame[l3 + 10] = 0; frame[l3 + 11] = 0
        let c = Checksum.finish(Checksum.sum(frame, l3..<l3 + ihl))
        frame[l3 + 10] = UInt8(c >> 8); frame[l3 + 11] = UInt8(c & 0xff)
    }

    static func ipv6Bytes(_ a: IPAddress) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for half in [a.high, a.low] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((half >> UInt64(shift)) & 0xff)) }
        }
        return out
    }

    static func ipv6Address(_ b: [UInt8], at: Int) -> IPAddress {
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(b[at + i]) }
        for i in 8..<16 { low = low << 8 | UInt64(b[at + i]) }
        return IPAddress(high: high, low: low)
    }

    static func readUInt32(_ b: [UInt8], at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
}
