extension PacketBuilder {
    /// Splits a frame built by this builder into IP fragments carrying at most
    /// `payloadBytesPerFragment` bytes of the IP payload each (rounded down to a multiple of 8).
    ///
    /// Build the whole datagram first (so its L4 checksum covers all of it), then fragment.
    /// IPv4 keeps the datagram's identification and clears DF; IPv6 inserts a Fragment extension
    /// header with `identification`. Returns the frame unchanged when it fits in one fragment.
    public static func fragment(_ frame: [UInt8], payloadBytesPerFragment: Int,
                                identification: UInt32 = 1) -> [[UInt8]] {
        guard let l3 = ipHeaderOffset(in: frame) else { preconditionFailure("fragment: no IP header") }
        let chunk = max(8, payloadBytesPerFragment / 8 * 8)
        let v6 = frame[l3] >> 4 == 6
        let headerLength = v6 ? 40 : Int(frame[l3] & 0x0f) * 4
        let payload = Array(frame[(l3 + headerLength)...])
        guard payload.count > chunk else { return [frame] }
        let prefix = Array(frame[..<(l3 + headerLength)])
        var fragments: [[UInt8]] = []
        var start = 0
        while start < payload.count {
            let end = min(start + chunk, payload.count)
            let more = end < payload.count
            var f = prefix
            if v6 {
                let nextHeader = f[l3 + 6]
                f[l3 + 6] = 44
                let length = UInt16(8 + end - start)
                f[l3 + 4] = UInt8(length >> 8); f[l3 + 5] = UInt8(length & 0xff)
                let offsetField = UInt16(start / 8) << 3 | (more ? 1 : 0)
                f += [nextHeader, 0] + bigEndianBytes(offsetField) + bigEndianBytes(identification)
            } else {
                let total = UInt16(headerLength + end - start)
                f[l3 + 2] = UInt8(total >> 8); f[l3 + 3] = UInt8(total & 0xff)
                let existing = (UInt16(f[l3 + 6]) << 8 | UInt16(f[l3 + 7])) & 0x1fff
                let field = (more ? 0x2000 : 0) | (existing + UInt16(start / 8))
                f[l3 + 6] = UInt8(field >> 8); f[l3 + 7] = UInt8(field & 0xff)
                setIPv4Checksum(&f, at: l3)
            }
            f += payload[start..<end]
            fragments.append(f)
            start = end
        }
        return fragments
    }
}
