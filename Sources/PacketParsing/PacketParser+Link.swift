/// Link-layer headers: Ethernet II with VLAN tags, Linux SLL and SLL2, BSD NULL and LOOP, raw IP.
extension PacketParser {
    /// Reads the link header of `frame` for `linkType`: sets `packet.etherType` (0x0800 or
    /// 0x86DD for the raw and loopback types), `vlanCount` and `outerVLAN`, and `l3Offset` to
    /// where the network header starts. Returns `.ok` or the reason the frame stops here.
    @inlinable @inline(__always)
    func parseLinkHeader(_ frame: UnsafeRawBufferPointer, l3Offset: inout Int, into packet: inout ParsedPacket) -> ParseOutcome {
        let count = frame.count
        switch linkType.rawValue {
        case 1:  // Ethernet II: dst(6) src(6) type(2)
            guard count >= 14 else { return .truncatedLinkHeader }
            return PacketParser.parseEtherTypeAndTags(
                frame, etherType: PacketParser.be16(frame, 12), tagOffset: 14, l3Offset: &l3Offset, into: &packet)

        case 113:  // Linux SLL: type(2) arphrd(2) addrlen(2) addr(8) protocol(2)
            guard count >= 16 else { return .truncatedLinkHeader }
            return PacketParser.parseEtherTypeAndTags(
                frame, etherType: PacketParser.be16(frame, 14), tagOffset: 16, l3Offset: &l3Offset, into: &packet)

        case 276:  // Linux SLL2: protocol(2) reserved(2) ifindex(4) arphrd(2) type(1) addrlen(1) addr(8)
            guard count >= 20 else { return .truncatedLinkHeader }
            return PacketParser.parseEtherTypeAndTags(
                frame, etherType: PacketParser.be16(frame, 0), tagOffset: 20, l3Offset: &l3Offset, into: &packet)

        case 0, 108:  // NULL: 4-byte family in the capturing host's order; LOOP: big-endian.
            guard count >= 4 else { return .truncatedLinkHeader }
            var family = linkType.rawValue == 0
                ? PacketParser.host32(frame, 0) : PacketParser.be32(frame, 0)
            // Families are small: a value with high bits set was written by a host of the
            // other byte order (as Wireshark and tcpdump also assume).
            if family > 0xFFFF { family = family.byteSwapped }
            l3Offset = 4
            switch family {
            case 2: packet.etherType = EtherType.ipv4
            case 10, 24, 28, 30: packet.etherType = EtherType.ipv6  // Linux, Net/OpenBSD, FreeBSD, Darwin
            default: return .unsupportedEtherType
            }
            return .ok

        case 12, 101:  // Raw IP: the version nibble says which.
            // An empty frame has not even a version nibble: call it a cut link header.
            guard count >= 1 else { return .truncatedLinkHeader }
            switch PacketParser.u8(frame, 0) >> 4 {
            case 4: packet.etherType = EtherType.ipv4
            case 6: packet.etherType = EtherType.ipv6
            default: return .badIPVersion
            }
            l3Offset = 0
            return .ok

        case 228:
            packet.etherType = EtherType.ipv4
            l3Offset = 0
            return .ok

        case 229:
            packet.etherType = EtherType.ipv6
            l3Offset = 0
            return .ok

        default:
            return .unsupportedLinkType
        }
    }

    /// Follows up to four VLAN tags (802.1Q 0x8100, 802.1ad 0x88A8, legacy 0x9100) from an
    /// ethertype field whose tag, if any, starts at `tagOffset` (TCI, then the next ethertype).
    /// Sets `etherType`, `vlanCount`, `outerVLAN` and `l3Offset`.
    @inlinable @inline(__always)
    static func parseEtherTypeAndTags(
        _ frame: UnsafeRawBufferPointer, etherType first: UInt16, tagOffset: Int,
        l3Offset: inout Int, into packet: inout ParsedPacket
    ) -> ParseOutcome {
        var etherType = first
        var offset = tagOffset
        var tags: UInt8 = 0
        while etherType == EtherType.vlan || etherType == EtherType.qinq || etherType == EtherType.qinqLegacy {
            guard tags < 4 else { return .tooManyVLANTags }
            guard offset + 4 <= frame.count else { return .truncatedVLANTag }
            if tags == 0 { packet.outerVLAN = be16(frame, offset) & 0x0FFF }
            tags += 1
            etherType = be16(frame, offset + 2)
            offset += 4
        }
        packet.vlanCount = tags
        packet.etherType = etherType
        l3Offset = offset
        return .ok
    }
}
