import Conntrack
import PacketParsing
import TraceIO

/// The input format of the `packet` and `datapath` targets: a short trace and its settings.
///
///     byte 0    options: bits 0-3 link type (index into `linkTypes`, modulo its size),
///               bits 4-5 checksums (0 count, 1 off, 2 enforce, 3 count), bit 6 ALGs off,
///               bit 7 a tiny table (4 connections, 2 expectations) instead of 64 and 16
///     records   length (2 bytes, big-endian), time (1 byte), then `length` frame bytes (fewer
///               when the input ends first). Time: bits 0-5 seconds after the previous frame,
///               times 64 with bit 6; the value 63 steps 10 s backwards instead (the replay
///               clamps trace time forward). Bit 7: the frame was cut by the snap length (its
///               wire length is 100 bytes more than captured).
///
/// At most `maximumFrames` frames are read. Fuzz/make-corpus.py writes seeds in this format.
struct FuzzFrames {
    /// Every link type the parser knows, then one it does not (DLT_USER0).
    static let linkTypes: [LinkType] = [
        .ethernet, .raw, .linuxSLL, .linuxSLL2, .null, .loop, .ipv4, .ipv6, .rawLinktype,
        LinkType(rawValue: 147),
    ]
    static let maximumFrames = 64
    static let startNanos: UInt64 = 1_700_000_000 * 1_000_000_000

    var linkType: LinkType
    var checksums: ChecksumPolicy
    var algsEnabled: Bool
    var tinyTables: Bool
    let trace: Trace

    init(_ input: UnsafeRawBufferPointer) {
        var reader = FuzzReader(input)
        let options = reader.byte()
        linkType = Self.linkTypes[Int(options & 0x0F) % Self.linkTypes.count]
        checksums = [ChecksumPolicy.count, .off, .enforce, .count][Int(options >> 4) & 3]
        algsEnabled = options & 0x40 == 0
        tinyTables = options & 0x80 != 0
        let assembler = TraceAssembler(capacity: max(input.count, 64), expectedPackets: 8)
        var time = Self.startNanos
        while !reader.isAtEnd && assembler.count < Self.maximumFrames {
            let length = Int(reader.uint16())
            let meta = reader.byte()
            let seconds = UInt64(meta & 0x3F)
            if seconds == 63 {
                time -= 10_000_000_000  // stays far above 0: 64 frames go back at most 640 s
            } else {
                time += seconds * (meta & 0x40 != 0 ? 64 : 1) * 1_000_000_000
            }
            let frame = reader.take(length)
            let wireLength = frame.count + (meta & 0x80 != 0 ? 100 : 0)
            assembler.append(frame: frame, wireLength: wireLength, timestampNanos: time, linkType: linkType)
        }
        trace = assembler.finish(name: "fuzz input")
    }

    /// The connection and expectation limits the options ask for.
    var config: ConntrackConfig {
        ConntrackConfig(maxConnections: tinyTables ? 4 : 64, checksums: checksums)
    }

    var expectationLimits: ExpectationTable.Limits {
        ExpectationTable.Limits(maxExpectations: tinyTables ? 2 : 16, perMasterLimit: tinyTables ? 1 : 4)
    }
}
