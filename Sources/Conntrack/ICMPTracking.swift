import PacketParsing

/// ICMP and ICMPv6 rules: which messages are errors (related to another connection), which may
/// start a connection, and which belong to which direction (OVS conntrack-icmp).
public enum ICMPTracking {
    @inline(__always)
    public static func isError(_ packet: ParsedPacket) -> Bool {
        switch packet.key.proto {
        case IPProtocol.icmp:
            switch packet.icmpType {
            case 3, 4, 5, 11, 12: true
            default: false
            }
        case IPProtocol.icmpv6: packet.icmpType >= 1 && packet.icmpType <= 4
        default: false
        }
    }

    /// The key of the packet quoted in an ICMP error, in `zone`; nil when it cannot be read.
    /// The sharded datapath routes an ICMP error by this key's hash.
    public static func embeddedKey(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, zone: UInt16) -> FlowKey? {
        guard packet.icmpInnerOffset != 0, frame.count > Int(packet.icmpInnerOffset),
              var inner = PacketParser(linkType: .ethernet).parseEmbedded(frame, at: Int(packet.icmpInnerOffset))
        else { return nil }
        inner.zone = zone
        return inner
    }

    /// Requests may start a connection: echo, timestamp, information (v4); echo (v6).
    static func mayStartConnection(_ packet: ParsedPacket) -> Bool {
        guard packet.key.proto == IPProtocol.icmp else { return packet.icmpType == 128 }
        switch packet.icmpType {
        case 8, 13, 15: return true
        default: return false
        }
    }

    /// Requests travel in the original direction, replies in the reply direction.
    static func directionIsValid(_ packet: ParsedPacket, isReply: Bool) -> Bool {
        guard packet.key.proto == IPProtocol.icmp else {
            return packet.icmpType == (isReply ? 129 : 128)
        }
        switch packet.icmpType {
        case 8, 13, 15, 17: return !isReply
        case 0, 14, 16, 18: return isReply
        default: return false
        }
    }
}

extension ConntrackPartition {
    /// An ICMP error is +rel to the connection its embedded packet belongs to (+rpl when the
    /// embedded packet went in that connection's original direction, so the error travels back
    /// in the reply direction). Nil when it belongs to none live at `time` (`commitNew` then
    /// makes it +inv). Errors are never committed.
    func relatedToICMPError(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, zone: UInt16, time: UInt64) -> CTVerdict? {
        // The error must travel back to the sender of the quoted packet (as OVS checks).
        guard let inner = ICMPTracking.embeddedKey(packet, frame: frame, zone: zone),
              inner.src == packet.key.dst,
              let (entry, innerIsReply) = find(inner, hash: hash(inner)),
              store.entries[entry].expiration > time
        else { return nil }
        let connection = store.entries[entry]
        var verdict = CTVerdict(state: innerIsReply ? [.tracked, .related] : [.tracked, .related, .reply], zone: zone)
        verdict.connectionID = connection.id
        verdict.masterID = connection.masterID
        verdict.mark = connection.mark
        verdict.label = CTLabel(high: connection.labelHigh, low: connection.labelLow)
        return verdict
    }
}
