import Testing
@testable import Conntrack

/// The one's-complement sum behind every checksum check, against the textbook definition
/// (RFC 1071: big-endian 16-bit words, odd tail padded with zero, carries folded back), over
/// every length up to a jumbo frame's and every start alignment: the SIMD steps, the 16-, 8-,
/// 4-, 2- and 1-byte tails.
@Suite struct ChecksumSumTests {
    /// What `verify` computes for a span: the native-order sum, folded; swapped to big-endian
    /// order for comparison with the definition (RFC 1071 §2(B)).
    static func sum(_ frame: UnsafeRawBufferPointer, from: Int, to: Int) -> UInt16 {
        ChecksumVerifier.fold(ChecksumVerifier.nativeSum(frame.baseAddress! + from, count: to - from)).byteSwapped
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

    @Test func sumMatchesTheDefinitionForEveryLengthAndAlignment() {
        var state: UInt64 = 0x1234_5678
        let bytes: [UInt8] = (0..<9_100).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        bytes.withUnsafeBytes { frame in
            for start in 0..<4 {
                for length in Array(0...300) + [1_500, 1_501, 8_999, 9_000] {
                    let got = Self.sum(frame, from: start, to: start + length)
                    let want = Self.reference(bytes, from: start, to: start + length)
                    // 0x0000 and 0xFFFF are the same one's-complement value (both zero).
                    #expect(got == want || (got | want == 0xFFFF && got & want == 0), "start \(start), length \(length)")
                }
            }
        }
    }

    @Test func allOnesDataSumsToAllOnes() {
        let bytes = [UInt8](repeating: 0xFF, count: 4_096)
        bytes.withUnsafeBytes { frame in
            #expect(Self.sum(frame, from: 0, to: 4_096) == 0xFFFF)
        }
    }
}
