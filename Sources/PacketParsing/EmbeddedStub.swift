// TEMPORARY stand-in until the parser lands; deleted at merge.
extension PacketParser {
    public func parseEmbedded(_ frame: UnsafeRawBufferPointer, at offset: Int) -> FlowKey? { nil }
}
