/// Parses captured frames into `ParsedPacket`s without copying or allocating.
///
/// Bounds are checked on every read; a malformed header yields a `ParseOutcome` naming it, never
/// a trap. The parser is a value: set it up once per trace (link type) and call `parse` per packet.
public struct PacketParser: Sendable {
    public var linkType: LinkType

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
        fatalError("not implemented yet")
    }
}
