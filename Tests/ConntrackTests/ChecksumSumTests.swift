import PacketParsing
import Testing
@testable import Conntrack

/// The one's-complement sum behind every checksum check, against the textbook definition
/// (RFC 1071: big-endian 16-bit words, odd tail padded with zero, carries folded back), over
/// every length up to a jumbo frame's and every start alignment.
@Suite struct ChecksumSumTests {
    /// What `verify` sums for a span: the native-order sum, folded; swapped to big-endian
    /// order for comparison with the definition (RFC 1071 §2(B)).
    static func sum(_ frame: UnsafeRawBufferPointer, from: Int, to: Int) -> UInt16 {
        fold(ChecksumVerifier.nativeSum(frame.baseAddress! + from, count: to - from)).byteSwapped
    }

    /// A 64-bit one's-complement sum folded to 16 bits, carries added back until it fits.
    static func fold(_ value: UInt64) -> UInt16 {
        var v = value
        while v > 0xFFFF { v = (v & 0xFFFF) + (v >> 16) }
        return UInt16(v)
    }

    /// `foldsToAllOnes` (a multiply and a compare) says what folding says: every multiple of
    /// 0xFFFF and its neighbours across the range, zero, the extremes, and random sums.
    @Test func foldsToAllOnesAgreesWithTheFold() {
        var values: [UInt64] = [0, 1, 0xFFFE, 0xFFFF, 0x1_0000, 0x1_FFFE, UInt64.max, UInt64.max - 1, 1 << 63]
        var state: UInt64 = 0xF01D
        for _ in 0..<100_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let multiple = 0xFFFF &* (state >> 17)  // up to 2^47 - 1 times 0xFFFF: no wrap
            values += [state, multiple, multiple &+ 1, multiple &- 1, state >> (state & 63)]
        }
        for value in values {
            #expect(ChecksumVerifier.foldsToAllOnes(value) == (Self.fold(value) == 0xFFFF), "\(value)")
        }
    }

    static func reference(_ bytes: [UInt8], from: Int, to: Int) -> UInt16 {
        var sum: UInt64 = 0
        var i = from
        while i + 1 < to {
            sum += UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < to { sum += UInt64(bytes[i]) << 8 }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return UInt16(sum)
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    @Test func allOnesDataSumsToAllOnes() {
        let bytes = [UInt8](repeating: 0xFF, count: 4_096)
        bytes.withUnsafeBytes { frame in
            #expect(Self.sum(frame, from: 0, to: 4_096) == 0xFFFF)
        }
    }

    /// `nativeSum` against the definition, for every length up to a jumbo frame's (below 8
    /// bytes the short sum; the blocks, words and 2-, 4-, 6-byte and odd tails above) and start
    /// alignment, over random bytes and over bytes that make every 64-bit addition carry (all
    /// 0xFF, and 0xFF with a 0xFE here and there).
    @Test(arguments: ["random", "all ones", "nearly all ones"])
    func sumMatchesTheDefinitionForEveryLengthAndAlignment(data: String) {
        var bytes = Self.randomBytes(9_200, seed: 0x5EED_5A17)
        if data != "random" {
            for i in bytes.indices { bytes[i] = data == "all ones" || i % 7 != 3 ? 0xFF : 0xFE }
        }
        bytes.withUnsafeBytes { frame in
            for start in 0..<4 {
                for length in Array(0...300) + [1_500, 1_501, 8_999, 9_000] {
                    let got = Self.sum(frame, from: start, to: start + length)
                    let want = Self.reference(bytes, from: start, to: start + length)
                    // 0x0000 and 0xFFFF are the same one's-complement value (both zero).
                    #expect(got == want || (got | want == 0xFFFF && got & want == 0), "start \(start), length \(length)")
                }
                // The header-only segment's sum (20 bytes) is `nativeSum`'s as the verifier reads
                // it: the same residue mod 0xFFFF, zero for the same bytes.
                for offset in stride(from: start, through: 9_000, by: 97) {
                    let base = frame.baseAddress! + offset
                    let got = ChecksumVerifier.headerOnlySum(base), want = ChecksumVerifier.nativeSum(base, count: 20)
                    #expect(got % 0xFFFF == want % 0xFFFF && (got == 0) == (want == 0), "header-only sum at \(offset)")
                }
            }
        }
    }

    /// Ethernet + IPv4 (no options) + a TCP or UDP segment with right checksums.
    static func frame(udp: Bool, payload: Int, seed: inout UInt64) -> [UInt8] {
        func random() -> UInt8 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: seed >> 56)
        }
        let l4Header = udp ? 8 : 20
        let l4Length = l4Header + payload
        var f = [UInt8](repeating: 0, count: 14 + 20 + l4Length)
        f[12] = 0x08
        f[14] = 0x45
        let total = 20 + l4Length
        f[16] = UInt8(total >> 8); f[17] = UInt8(total & 0xFF)
        f[22] = 64
        f[23] = udp ? 17 : 6
        for i in 26..<34 { f[i] = random() }  // addresses
        for i in 34..<f.count { f[i] = random() }
        if udp {
            f[38] = UInt8(l4Length >> 8); f[39] = UInt8(l4Length & 0xFF)
        } else {
            f[46] = 0x50  // data offset 5
            f[47] = 0x10  // ACK
        }
        let checksumAt = udp ? 40 : 50
        f[checksumAt] = 0; f[checksumAt + 1] = 0
        f[24] = 0; f[25] = 0
        let ipSum = ~reference(f, from: 14, to: 34)
        f[24] = UInt8(ipSum >> 8); f[25] = UInt8(ipSum & 0xFF)
        var pseudo = Array(f[26..<34]) + [0, udp ? 17 : 6, UInt8(l4Length >> 8), UInt8(l4Length & 0xFF)]
        pseudo += f[34...]
        var l4Sum = ~reference(pseudo, from: 0, to: pseudo.count)
        if udp && l4Sum == 0 { l4Sum = 0xFFFF }
        f[checksumAt] = UInt8(l4Sum >> 8); f[checksumAt + 1] = UInt8(l4Sum & 0xFF)
        return f
    }

    static func verify(_ f: [UInt8]) -> Bool {
        f.withUnsafeBytes { frame in
            var packet = ParsedPacket()
            let outcome = PacketParser(linkType: .ethernet).parse(frame, wireLength: frame.count, into: &packet)
            #expect(outcome == .ok)
            return ChecksumVerifier.verify(packet, frame: frame)
        }
    }

    /// The IPv4 TCP/UDP fast path accepts right checksums at every segment length, and refuses
    /// every single corrupted byte of the IP header and the segment (a one-byte change always
    /// changes a one's-complement sum). UDP with a zero checksum is accepted with any payload.
    @Test(arguments: [false, true])
    func ipv4FastPathAcceptsRightAndRefusesCorruptedChecksums(udp: Bool) {
        var seed: UInt64 = udp ? 17 : 6
        for payload in Array(0...96) + [255, 256, 257, 1_400] {
            var f = Self.frame(udp: udp, payload: payload, seed: &seed)
            #expect(Self.verify(f), "payload \(payload)")
            let checked = Array(14..<34) + Array(34..<f.count)
            for _ in 0..<8 {
                let i = checked[Int(seed % UInt64(checked.count))]
                seed = seed &* 6_364_136_223_846_793_005 &+ 1
                // Not version and header length, total length, fragment fields, protocol, UDP
                // length or TCP data offset: the parser would read another packet.
                if [14, 16, 17, 20, 21, 23, 38, 39, 46].contains(i) { continue }
                let saved = f[i]
                f[i] ^= UInt8(truncatingIfNeeded: seed >> 59) | 1
                #expect(!Self.verify(f), "payload \(payload), byte \(i) corrupted")
                f[i] = saved
            }
            if udp && payload > 0 {
                f[40] = 0; f[41] = 0
                f[f.count - 1] ^= 0x5A
                #expect(Self.verify(f), "UDP without a checksum, payload \(payload)")
            }
        }
    }
}
