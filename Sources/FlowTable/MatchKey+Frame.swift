import PacketParsing

extension MatchKey {
    /// The key a flow table sees for a parsed frame, ct fields empty, in_port from `inPorts`;
    /// nil for a frame malformed below IP (no ethertype to match: the datapath drops it).
    ///
    /// - `.ok`: the IP packet's fields (`init(packet:inPort:)`).
    /// - `.arp`: dl_type 0x0806, in_port from the sender protocol address.
    /// - other well-formed frames: their dl_type (0 for a link type ctbench does not parse).
    /// - malformed at IP or above: dl_type 0x0800 / 0x86DD only (conntrack answers +trk+inv).
    @inlinable
    public static func of(_ packet: ParsedPacket, outcome: ParseOutcome, frame: UnsafeRawBufferPointer,
                          inPorts: InPortMap, interfaceID: UInt32) -> MatchKey? {
        switch outcome {
        case .ok:
            return MatchKey(packet: packet, inPort: inPorts.port(source: packet.key.src, interfaceID: interfaceID))
        case .arp:
            let sender = ARPHeader.senderAddress(frame, at: Int(packet.l3Offset))
            return MatchKey(etherType: EtherType.arp, inPort: inPorts.port(source: sender, interfaceID: interfaceID))
        case .unsupportedEtherType:
            return MatchKey(etherType: packet.etherType, inPort: inPorts.port(source: nil, interfaceID: interfaceID))
        case .unsupportedLinkType:
            return MatchKey(etherType: 0, inPort: inPorts.port(source: nil, interfaceID: interfaceID))
        case .truncatedLinkHeader, .truncatedVLANTag, .tooManyVLANTags:
            return nil
        default:
            return MatchKey(etherType: packet.etherType, inPort: inPorts.port(source: nil, interfaceID: interfaceID))
        }
    }
}

/// Reads the one ARP field the flow table needs: the sender protocol address (SPA).
public enum ARPHeader {
    /// The IPv4 sender address of the ARP header at `offset` (htype 2, ptype 2, hlen 1, plen 1,
    /// oper 2, sha hlen, spa plen), or nil when it is not IPv4 over a 4-byte field or not captured.
    @inlinable
    public static func senderAddress(_ frame: UnsafeRawBufferPointer, at offset: Int) -> IPAddress? {
        guard offset >= 0, offset + 8 <= frame.count,
              frame[offset + 2] == 0x08, frame[offset + 3] == 0x00, frame[offset + 5] == 4 else { return nil }
        let spa = offset + 8 + Int(frame[offset + 4])
        guard spa + 4 <= frame.count else { return nil }
        let v4 = UInt32(frame[spa]) << 24 | UInt32(frame[spa + 1]) << 16 | UInt32(frame[spa + 2]) << 8
            | UInt32(frame[spa + 3])
        return IPAddress(v4: v4)
    }
}
