import Glibc

/// The pcapng interface id of every packet of a capture file, which libpcap reads but does not
/// report: a walk over the block headers (type, length, the first body word or two), seeking
/// past the packet data, so that `TraceLoader` can fill in `PacketRecord.interfaceID`.
///
/// Packet blocks: Enhanced Packet Block (type 6, interface id in its first body word), Simple
/// Packet Block (type 3, always interface 0) and the obsolete Packet Block (type 2, a 16-bit
/// interface id): the blocks libpcap delivers as packets, in the same order. Ids are as the
/// file numbers them: per section, counting its Interface Description Blocks from 0. The byte
/// order is each Section Header Block's.
public enum PcapngInterfaces {
    /// Block types.
    static let sectionHeader: UInt32 = 0x0A0D_0D0A
    static let obsoletePacket: UInt32 = 2
    static let simplePacket: UInt32 = 3
    static let enhancedPacket: UInt32 = 6
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D

    /// The interface id of each packet, in file order; nil when the file is not pcapng (or
    /// cannot be opened). A block cut short or a nonsensical length ends the walk: the ids read
    /// before it are returned (libpcap stops at the same place).
    public static func ids(path: String) -> [UInt32]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var header = [UInt8](repeating: 0, count: 12)
        guard fread(&header, 1, 12, file) == 12, word(header, 0, bigEndian: false) == sectionHeader else { return nil }
        guard fseeko(file, 0, SEEK_SET) == 0 else { return nil }
        var ids: [UInt32] = []
        var bigEndian = false
        var offset: off_t = 0
        while fread(&header, 1, 12, file) == 12 {
            let type = word(header, 0, bigEndian: bigEndian)
            if type == sectionHeader {
                // The magic gives the section's byte order (the type reads the same either way).
                bigEndian = word(header, 8, bigEndian: false) != byteOrderMagic
                guard word(header, 8, bigEndian: bigEndian) == byteOrderMagic else { break }
            }
            let length = word(header, 4, bigEndian: bigEndian)
            guard length >= 12, length % 4 == 0 else { break }
            switch type {
            case enhancedPacket: ids.append(word(header, 8, bigEndian: bigEndian))
            case simplePacket: ids.append(0)
            case obsoletePacket:
                let half = UInt32(header[8]) | UInt32(header[9]) << 8
                ids.append(bigEndian ? half.byteSwapped >> 16 : half)
            default: break
            }
            offset += off_t(length)
            guard fseeko(file, offset, SEEK_SET) == 0 else { break }
        }
        // A last packet block cut short was counted but libpcap rejects it: the loader only
        // uses the ids of the packets it delivers.
        return ids
    }

    /// The 32-bit word at `offset`, in the file's byte order.
    static func word(_ bytes: [UInt8], _ offset: Int, bigEndian: Bool) -> UInt32 {
        let little = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
        return bigEndian ? little.byteSwapped : little
    }
}
