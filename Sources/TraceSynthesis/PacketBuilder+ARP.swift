import PacketParsing

extension PacketBuilder {
    /// An Ethernet ARP request (broadcast, asking who has `target`) or reply (to `target`'s
    /// MAC), for IPv4 over Ethernet: sender and target hardware addresses are derived from the
    /// IP addresses as in every built frame (`mac(for:)`); a request's target MAC is zero.
    public static func arp(from sender: IPAddress, to target: IPAddress, reply: Bool = false,
                           packet: PacketOptions = PacketOptions()) -> [UInt8] {
        guard let senderV4 = sender.v4, let targetV4 = target.v4 else {
            preconditionFailure("PacketBuilder.arp: IPv4 addresses only (\(sender) -> \(target))")
        }
        let targetMAC: [UInt8] = reply ? mac(for: target) : [0, 0, 0, 0, 0, 0]
        var frame = packet.destinationMAC ?? (reply ? mac(for: target) : [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        frame += packet.sourceMAC ?? mac(for: sender)
        for tag in packet.vlans {
            frame += bigEndianBytes(tag.tpid) + bigEndianBytes(UInt16(tag.priority) << 13 | tag.vid)
        }
        frame += [0x08, 0x06]
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, reply ? 2 : 1]  // Ethernet, IPv4, lengths, operation
        frame += mac(for: sender) + bigEndianBytes(senderV4) + targetMAC + bigEndianBytes(targetV4)
        return frame
    }
}
