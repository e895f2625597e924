@testable import Conntrack
import Datapath
import PacketParsing
import Testing
import TraceSynthesis

/// The new-connection lane (`DefaultPipeline.newConnectionLane`,
/// `ConntrackPartition.commitFirstSegment`): a packet parsed ahead that the TCP lane finds no
/// connection for is committed in one step only where the general steps would do nothing more.
/// At each of its limits, a pipeline fed parsed-ahead packets (which takes the lane) and one fed
/// frames (which takes the general steps: `lookup`, `commit`) give the same verdicts, the same
/// table and the same counters. The random traffic of `TCPLaneTests` covers the lane itself.
@Suite struct NewConnectionLaneTests {
    static let server = Endpoint(ip: "10.9.0.1", port: 80)

    static func syn(_ i: Int, to server: Endpoint = server) -> [UInt8] {
        PacketBuilder.tcp(from: Endpoint(ip: "10.0.0.\(i + 1)", port: UInt16(40_000 + i)), to: server, flags: .syn,
                          seq: UInt32(1_000 * i))
    }

    /// Runs `frames` through both pipelines; the verdicts of the one fed parsed packets.
    static func compare(_ frames: [[UInt8]], config: ConntrackConfig,
                        sourceLocation: SourceLocation = #_sourceLocation) -> (verdicts: [PacketVerdict], partition: ConntrackPartition) {
        let staged = DefaultPipeline(config: config)
        let general = DefaultPipeline(config: config)
        var verdicts: [PacketVerdict] = []
        for (i, frame) in frames.enumerated() {
            let time = UInt64(i + 1) * 1_000_000
            let packet = parse(frame)
            let (a, b) = frame.withUnsafeBytes { bytes in
                (withUnsafePointer(to: packet) {
                    staged.process($0, outcome: .ok, hash: staged.partition.hash(packet.key), frame: bytes,
                                   wireLength: bytes.count, index: i, time: time)
                 },
                 general.process(bytes, wireLength: bytes.count, linkType: .ethernet, index: i, time: time))
            }
            #expect(a == b, "packet \(i)", sourceLocation: sourceLocation)
            verdicts.append(a)
        }
        #expect(TCPLaneTests.Snapshot(staged.partition) == TCPLaneTests.Snapshot(general.partition),
                sourceLocation: sourceLocation)
        #expect(staged.counters == general.counters, sourceLocation: sourceLocation)
        return (verdicts, staged.partition)
    }

    @Test func plainSYNsAreCommittedAsNew() {
        let (verdicts, partition) = Self.compare((0..<3).map { Self.syn($0) }, config: TCPLaneTests.config())
        #expect(verdicts.map(\.state) == Array(repeating: [.tracked, .new], count: 3))
        #expect(verdicts.map(\.connectionID) == [0, 1, 2])
        #expect(partition.stats.committed == 3)
    }

    @Test func aZoneLimitStillRefuses() {
        var config = TCPLaneTests.config()
        config.zoneLimits = [0: 2]
        let (_, partition) = Self.compare((0..<3).map { Self.syn($0) }, config: config)
        #expect(partition.stats.committed == 2)
        #expect(partition.stats.refusedByZoneLimit == 1)
    }

    @Test func aFullTableStillRefuses() {
        var config = TCPLaneTests.config()
        config.maxConnections = 2
        let (_, partition) = Self.compare((0..<3).map { Self.syn($0) }, config: config)
        #expect(partition.stats.committed == 2)
        #expect(partition.stats.refusedByLimit == 1)
    }

    @Test func anFTPControlConnectionIsCommittedWithItsALG() {
        let (verdicts, partition) = Self.compare([Self.syn(0, to: Endpoint(ip: "10.9.0.1", port: 21))],
                                                 config: TCPLaneTests.config())
        #expect(verdicts[0].state == [.tracked, .new])
        #expect(partition.connections.map(\.alg) == [.ftp])
    }

    @Test func aFirstSegmentTheTrackerRefusesIsInvalid() {
        let client = Endpoint(ip: "10.0.0.1", port: 40_000)
        let synAck = PacketBuilder.tcp(from: client, to: Self.server, flags: [.syn, .ack], seq: 5, ack: 9)
        let (verdicts, partition) = Self.compare([synAck], config: TCPLaneTests.config())
        #expect(verdicts[0].state.contains(.invalid))
        #expect(partition.stats.committed == 0)
    }
}
