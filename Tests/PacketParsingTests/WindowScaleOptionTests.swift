/// The window-scale option read from the common SYN layouts at their fixed place
/// (`PacketParser.commonSYNLayoutWindowScale`) against the option walk it stands in for.
@testable import PacketParsing
import Testing

@Suite struct WindowScaleOptionTests {
    /// The layouts read at a fixed place (RFC 9293 MSS, RFC 2018 SACK-permitted, RFC 7323
    /// timestamps and window scale), each with a shift of 9.
    static let layouts: [(name: String, options: [UInt8])] = [
        ("BSD", [2, 4, 5, 180, 4, 2, 1, 3, 3, 9, 0, 0]),
        ("Windows", [2, 4, 5, 180, 1, 3, 3, 9, 1, 1, 4, 2]),
        ("Linux", [2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 9]),
    ]

    /// Both readers over `bytes[start..<end]`.
    static func both(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) -> (fixed: UInt8?, walked: UInt8) {
        bytes.withUnsafeBytes { frame in
            (PacketParser.commonSYNLayoutWindowScale(frame, from: start, to: end ?? bytes.count),
             PacketParser.walkForWindowScale(frame, from: start, to: end ?? bytes.count))
        }
    }

    @Test func commonLayoutsAreReadAtTheirPlace() {
        for layout in Self.layouts {
            let (fixed, walked) = Self.both(layout.options)
            #expect(fixed == 9, "\(layout.name)")
            #expect(walked == 9, "\(layout.name)")
            // Where they sit in a frame does not matter.
            let (shifted, _) = Self.both([0xAA, 0xBB, 0xCC] + layout.options, from: 3)
            #expect(shifted == 9, "\(layout.name) at offset 3")
        }
    }

    /// An option list that ends before the window-scale option does is not read at the fixed
    /// place: the walk decides (and finds no option).
    @Test func aListCutShortIsLeftToTheWalk() {
        for layout in Self.layouts {
            let needed = layout.options.lastIndex(of: 9)! + 1
            for end in 0..<needed {
                let (fixed, walked) = Self.both(layout.options, to: end)
                #expect(fixed == nil, "\(layout.name) cut at \(end)")
                #expect(walked == 0xFF, "\(layout.name) cut at \(end)")
            }
        }
    }

    /// Wherever the fixed-place reader answers, on random variations of the layouts (bytes
    /// changed, lengths cut) and on random bytes, it answers what the walk answers.
    @Test func fixedPlaceAgreesWithTheWalk() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var answered = 0
        for round in 0..<60_000 {
            var bytes: [UInt8]
            if round % 4 == 3 {
                bytes = (0..<Int(next() % 41)).map { _ in UInt8(truncatingIfNeeded: next()) }
            } else {
                bytes = Self.layouts[Int(next() % 3)].options
                for _ in 0..<Int(next() % 3) {
                    // Small values, so that kinds and lengths stay plausible.
                    bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next() % 12)
                }
            }
            let end = bytes.isEmpty ? 0 : Int(next() % UInt64(bytes.count + 1))
            let (fixed, walked) = Self.both(bytes, to: round % 2 == 0 ? bytes.count : end)
            if let fixed {
                answered += 1
                #expect(fixed == walked, "\(bytes) up to \(round % 2 == 0 ? bytes.count : end)")
            }
        }
        #expect(answered > 10_000)
    }
}
