import TraceSynthesis

/// Deterministic mutations of corpus inputs, for running the targets without libFuzzer (the
/// test suite's bounded smoke run): the same seed always gives the same inputs.
public struct Mutator {
    private var rng: Xoshiro256StarStar

    public init(seed: UInt64) { rng = Xoshiro256StarStar(seed: seed) }

    /// `input` with 1 to 4 random edits: bit flips, byte values at the edges of their ranges,
    /// insertions, deletions, a duplicated run, a cut end.
    public mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0...rng.int(below: 4) {
            let at = bytes.isEmpty ? 0 : rng.int(below: bytes.count)
            switch rng.int(below: 7) {
            case 0 where !bytes.isEmpty:
                bytes[at] ^= UInt8(1) << UInt8(rng.int(below: 8))
            case 1 where !bytes.isEmpty:
                bytes[at] = [0, 1, 0x7F, 0x80, 0xFF, 0x0A, 0x0D, 0x2C][rng.int(below: 8)]
            case 2:
                bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
            case 3 where !bytes.isEmpty:
                bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.int(below: 8)))
            case 4 where !bytes.isEmpty:
                let run = bytes[at..<min(bytes.count, at + 1 + rng.int(below: 32))]
                bytes.insert(contentsOf: run, at: rng.int(below: bytes.count + 1))
            case 5 where !bytes.isEmpty:
                bytes.removeLast(rng.int(below: bytes.count))
            default:
                bytes.append(UInt8(truncatingIfNeeded: rng.next()))
            }
        }
        return bytes
    }
}
