/// Parses captured frames into `ParsedPacket`s without copying or allocating.
///
/// Bounds are checked on every read; a malformed header yields a `ParseOutcome` naming it, never
/// a trap. The parser is a value: set it up once per trace (link type) and call `parse` per packet.
///
/// The work is split by layer: `+FastPath` (Ethernet / IPv4 / TCP, tried first), `+Link`,
/// `+IPv4`, `+IPv6`, `+Transport`, and `+Embedded` (the packet quoted inside an ICMP error).
public struct PacketParser: Sendable {
    /// The link-layer header type of the frames this parser reads.
    public var linkType: LinkType

    /// A parser for frames of the given link type.
    public init(linkType: LinkType) {
        self.linkType = linkType
    }

    /// Parses one frame.
    /// - Parameters:
    ///   - frame: the captured bytes of the frame.
    ///   - wireLength: the frame's length on the wire (pcap `len`); when it exceeds
    ///     `frame.count` the capture was cut by the snap length, and IP/UDP length fields may
    ///     legitimately point past the captured bytes (`payloadTruncated` is then set).
    ///   - packet: filled in; meaningful only when the result is `.ok`.
    @inlinable
    public func parse(_ frame: UnsafeRawBufferPointer, wireLength: Int, into packet: inout ParsedPacket) -> ParseOutcome {
        // The raw value, not `== .ethernet`: the literal needs no global accessor and no
        // cross-module call to a synthesised `==` (1 is DLT_EN10MB).
        if linkType.rawValue == 1 && PacketParser.parseFastEthernetIPv4TCP(frame, into: &packet) {
            return .ok
        }
        return parseGeneral(frame, wireLength: wireLength, into: &packet)
    }

    /// Every frame the fast path declines: any link type, VLAN tags, IPv6, options, fragments,
    /// other protocols, and all malformed input. Compiled once, in this module.
    @usableFromInline
    func parseGeneral(_ frame: UnsafeRawBufferPointer, wireLength: Int, into packet: inout ParsedPacket) -> ParseOutcome {
        // Filled in a local and stored once at the end: cheaper than many stores through inout.
        var p = ParsedPacket()
        defer { packet = p }
        var l3Offset = 0
        let link = parseLinkHeader(frame, l3Offset: &l3Offset, into: &p)
        guard link == .ok else { return link }
        let snapped = frame.count < wireLength
        switch p.etherType {
        case EtherType.ipv4: return PacketParser.parseIPv4(frame, at: l3Offset, snapped: snapped, into: &p)
        case EtherType.ipv6: return PacketParser.parseIPv6(frame, at: l3Offset, snapped: snapped, into: &p)
        case EtherType.arp:
            p.l3Offset = UInt32(truncatingIfNeeded: l3Offset)  // where the ARP header starts (flow tables read it)
            return .arp
        default: return .unsupportedEtherType
        }
    }
}
