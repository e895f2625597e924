@testable import Conntrack
import Datapath
import PacketParsing
import Testing
import TraceSynthesis

/// The TCP lane (`ConntrackPartition.trackTCPSegment`) against the general steps it
/// stands in for (`precheck`, `lookupExisting`, `existing`, `count`).
///
/// - Random traffic (seeded: TCP over IPv4 and IPv6 with handshakes, data, pure ACKs,
///   out-of-window segments, bad checksums, fragments, retransmissions, closes, resets, reopens
///   and idle gaps past a 2 s `tcp_established`; some UDP) gives, under every checksum policy,
///   the same verdict per packet and the same connection table and counters (every 1,000
///   packets and at the end) through `DefaultPipeline.process`, frame by frame and parsed ahead
///   (both take the lane; parsed ahead with an entry guess that is right, -1, stale or garbage),
///   through the lane's contract followed by hand (which counts the packets the lane finished),
///   and through `ConntrackPartition.process` (which never takes it). A guess of a freed entry
///   that still holds the key is not taken.
/// - A packet the lane refuses leaves the partition exactly as the precheck alone would (or
///   untouched when the lane says it did not precheck), and the general steps then finish it as
///   `process` would have.
/// - A valid segment the lane finishes on its established path, and a segment it gives the whole
///   tracker (handshake, close, reset, SYN on a live connection, +inv out of window), get the
///   flags, ids, entry and counters that `process` gives them.
/// - A SYN that reopens a closed connection is left to the general steps with the old entry
///   removed (as `lookupExisting` removes it), and they commit it anew as `process` does.
@Suite struct TCPLaneTests {
    // MARK: - Differential, random traffic

    @Test(arguments: ChecksumPolicy.allCases)
    func randomTrafficGetsTheSameVerdictsWithAndWithoutTheLane(checksums: ChecksumPolicy) {
        let traffic = Traffic.standard
        let config = Self.config(checksums)
        let pipeline = DefaultPipeline(config: config)  // A: takes the lane, frame by frame
        let staged = DefaultPipeline(config: config)  // A': the same for packets parsed ahead (inlinable entry)
        let laneFirst = LaneFirst(config: config)  // C: the lane's contract by hand, counts lane finishes
        let reference = ConntrackPartition(config: config)  // B: never takes the lane
        var divergences = Divergences()
        var estValid = 0, invalid = 0
        // The parsed-ahead pipeline gets an entry guess as a look-ahead would hand it: the
        // right entry, -1, or a wrong one (another live entry, a freed one, one past the
        // entries in use, garbage); none may change anything.
        var guesses = SplitMix64(seed: 18)
        var rightGuesses = 0
        var lastEntry: [FlowKey: Int] = [:]  // where each key's connection was last found

        for (i, frame) in traffic.frames.enumerated() {
            let time = traffic.times[i]
            let packet = parse(frame)
            let hash = staged.partition.hash(packet.key)
            let right = staged.partition.find(packet.key, hash: hash)?.entry
            let highWater = staged.partition.store.highWater
            let guess: Int
            switch guesses.next() % 6 {
            case 0, 1: guess = right ?? -1
            case 2: guess = -1
            case 3: guess = highWater == 0 ? -1 : Int(guesses.next() % UInt64(highWater))  // any entry in use or freed
            case 4: guess = lastEntry[packet.key] ?? highWater + Int(guesses.next() % 3)  // freed since, or never handed out
            default: guess = Int(truncatingIfNeeded: guesses.next())
            }
            if let right, guess == right { rightGuesses += 1 }
            if let right {
                lastEntry[packet.key] = right
                lastEntry[packet.key.reversed] = right
            }
            let (a, a2, c, b) = frame.withUnsafeBytes { bytes in
                (pipeline.process(bytes, wireLength: bytes.count, linkType: .ethernet, index: i, time: time),
                 withUnsafePointer(to: packet) {
                     staged.process($0, outcome: .ok, hash: hash, frame: bytes,
                                    wireLength: bytes.count, index: i, time: time, entryGuess: guess)
                 },
                 laneFirst.process(packet, frame: bytes, index: i, time: time),
                 PacketVerdict(reference.process(packet, frame: bytes, hash: reference.hash(packet.key),
                                                 packetIndex: UInt64(i), time: time, action: Self.action)))
            }
            divergences.check(a, b, "packet \(i) pipeline")
            divergences.check(a2, b, "packet \(i) pipeline, parsed ahead")
            divergences.check(c, b, "packet \(i) lane first")
            if a.state.contains(.established) && !a.state.contains(.invalid) { estValid += 1 }
            if a.state.contains(.invalid) { invalid += 1 }
            if i % 1_000 == 999 {
                let expected = Snapshot(reference)
                divergences.check(Snapshot(pipeline.partition), expected, "table after packet \(i) pipeline")
                divergences.check(Snapshot(staged.partition), expected, "table after packet \(i) parsed ahead")
                divergences.check(Snapshot(laneFirst.ct), expected, "table after packet \(i) lane first")
            }
        }
        #expect(divergences.count == 0, "\(divergences.count) divergences, first: \(divergences.first)")

        // The end state: table (stored entries, expired ones included), dump and counters.
        #expect(Snapshot(pipeline.partition) == Snapshot(reference))
        #expect(Snapshot(staged.partition) == Snapshot(reference))
        #expect(Snapshot(laneFirst.ct) == Snapshot(reference))
        #expect(pipeline.partition.stats == reference.stats)
        #expect(pipeline.partition.dumpConnections() == reference.dumpConnections())
        #expect(!reference.dumpConnections().isEmpty)
        let n = traffic.frames.count
        #expect(pipeline.counters.packets == UInt64(n))
        #expect(pipeline.counters.dropped == UInt64(invalid))
        #expect(pipeline.counters.forwarded == UInt64(n - invalid))
        #expect(staged.counters == pipeline.counters)
        #expect(rightGuesses * 5 >= n, "right guesses \(rightGuesses) of \(n)")

        // The traffic really went both ways: mostly the lane, and every kind of detour.
        let stats = reference.stats
        #expect(laneFirst.finished * 10 >= n * 6, "lane finished \(laneFirst.finished) of \(n)")
        #expect(estValid >= laneFirst.finished)
        #expect(laneFirst.finishedReply > 0 && laneFirst.finishedIPv6 > 0)
        #expect(invalid * 50 >= n, "+inv \(invalid) of \(n)")
        #expect(stats.tcpInvalidByReason.reduce(0, +) > 0)
        #expect(stats.invalidByReason[Int(InvalidReason.fragment.rawValue)] > 0)
        #expect(stats.expired > 0)
        #expect(stats.replaced > 0)
        #expect(stats.committedByProtocol[Int(IPProtocol.udp)] > 0)
        #expect(stats.sweepSteps > 0)
        let badChecksumVerdicts = stats.invalidByReason[Int(InvalidReason.badChecksum.rawValue)]
        switch checksums {
        case .off: #expect(stats.badChecksums == 0)
        case .count: #expect(stats.badChecksums > 0 && badChecksumVerdicts == 0)
        case .enforce: #expect(stats.badChecksums > 0 && badChecksumVerdicts == stats.badChecksums)
        }
    }

    /// An entry guess (`entryGuess`, a look-ahead's reading of the index) is taken only where
    /// the entry is live and holds the key: after a flush the entry still holds the key and an
    /// unexpired timer, but it is free, and the lane must miss as if nothing were guessed.
    @Test(arguments: Net.allCases)
    func aGuessOfAFreedEntryIsNotTaken(net: Net) throws {
        var scene = Scene(net: net)
        scene.establish()
        let frame = scene.conversation.segment(fromClient: true, flags: [.psh, .ack], payload: Self.bytes(100))
        let packet = parse(frame)
        let hash = scene.ct.hash(packet.key)
        let entry = try #require(scene.ct.find(packet.key, hash: hash)?.entry)
        let taken = frame.withUnsafeBytes { bytes in
            withUnsafePointer(to: packet) {
                scene.ct.trackTCPSegment($0, frame: bytes, hash: hash, time: scene.time, entryGuess: entry)
            }
        }
        #expect(taken.state == [.tracked, .established])
        scene.ct.flush()
        #expect(scene.ct.store.entries[entry].expiration > scene.time + Self.millisecond)
        let step = frame.withUnsafeBytes { bytes in
            withUnsafePointer(to: packet) {
                scene.ct.trackTCPSegment($0, frame: bytes, hash: hash, time: scene.time + Self.millisecond,
                                         entryGuess: entry)
            }
        }
        #expect(step.state.isEmpty && step.prechecked && step.missed)
    }

    // MARK: - Refusals leave no trace

    @Test(arguments: Probe.allCases.filter(\.isRefused), Net.allCases)
    func refusedPacketLeavesOnlyThePrecheckBehind(refusal: Probe, net: Net) {
        let (lane, probe, time) = refusal.scene(net)
        let (precheckOnly, _, _) = refusal.scene(net)
        let (reference, _, _) = refusal.scene(net)
        let packet = parse(probe)
        let hash = lane.ct.hash(packet.key)
        #expect(time > lane.ct.now)  // a precheck would move the clock
        let before = Snapshot(lane.ct)

        let step = probe.withUnsafeBytes {
            lane.ct.trackTCPSegment(packet, frame: $0, hash: hash, time: time)
        }
        #expect(step.state.isEmpty)
        #expect(step.prechecked == !refusal.refusedBeforePrecheck)
        #expect(step.missed == refusal.hasNoEntry)
        #expect(step.connectionID == Connection.noID && step.masterID == Connection.noID)
        // Entries and counters as they were, but for the clock and the sweeper...
        #expect(Snapshot(lane.ct).withoutClockAndSweep == before.withoutClockAndSweep)
        // ... which moved exactly as the precheck alone moves them, or not at all.
        if step.prechecked {
            _ = probe.withUnsafeBytes { precheckOnly.ct.precheck(packet, frame: $0, zone: 0, time: time) }
        }
        #expect(Snapshot(lane.ct) == Snapshot(precheckOnly.ct))

        // The general steps finish it as `process` does.
        let finished = probe.withUnsafeBytes {
            LaneFirst.general(lane.ct, packet, frame: $0, hash: hash, prechecked: step.prechecked,
                              missed: step.missed, index: 99, time: time)
        }
        let expected = probe.withUnsafeBytes {
            reference.ct.process(packet, frame: $0, hash: hash, packetIndex: 99, time: time, action: Self.action)
        }
        #expect(finished == expected)
        #expect(Snapshot(lane.ct) == Snapshot(reference.ct))
    }

    /// The probes' scenes whose connection is established and without an ALG take the lane's
    /// established path with a plain data segment: what the lane does there is the probe's own
    /// doing.
    @Test(arguments: Probe.allCases.filter(\.hasLaneReadyConnection), Net.allCases)
    func probeScenesAcceptAPlainSegment(refusal: Probe, net: Net) {
        var (scene, _, _) = refusal.scene(net)
        let frame = scene.conversation.segment(fromClient: true, flags: [.psh, .ack], payload: Self.bytes(100))
        let packet = parse(frame)
        let step = frame.withUnsafeBytes {
            scene.ct.trackTCPSegment(packet, frame: $0, hash: scene.ct.hash(packet.key), time: scene.time)
        }
        #expect(step.state == [.tracked, .established])
    }

    // MARK: - The whole tracker

    /// A segment that changes the connection's state, or that the tracker refuses, is finished
    /// by the lane as `process` finishes it: flags (+inv included), ids, entry, counters.
    @Test(arguments: Probe.allCases.filter { $0.answer == .wholeTracker }, Net.allCases)
    func stateChangeGetsWhatTheGeneralStepsGive(probe: Probe, net: Net) {
        let (lane, segment, time) = probe.scene(net)
        let (reference, _, _) = probe.scene(net)
        let packet = parse(segment)
        let hash = lane.ct.hash(packet.key)

        let step = segment.withUnsafeBytes {
            lane.ct.trackTCPSegment(packet, frame: $0, hash: hash, time: time)
        }
        #expect(!step.state.isEmpty)
        #expect(step.prechecked)
        #expect(step.state.contains(.invalid) == (probe == .outOfWindow))
        lane.ct.count(state: step.state)

        let expected = segment.withUnsafeBytes {
            reference.ct.process(packet, frame: $0, hash: hash, packetIndex: 99, time: time, action: Self.action)
        }
        #expect(PacketVerdict(state: step.state, zone: packet.key.zone, connectionID: step.connectionID,
                              masterID: step.masterID) == PacketVerdict(expected))
        #expect(step.connectionID == 0)
        #expect(Snapshot(lane.ct) == Snapshot(reference.ct))
    }

    /// A SYN on a closed connection: the lane removes the old entry (counted as replaced) and
    /// leaves the packet, prechecked, to the general steps, which commit it as `process` does.
    @Test(arguments: Net.allCases)
    func reopeningSYNIsLeftWithTheOldEntryRemoved(net: Net) {
        let (lane, syn, time) = Probe.reopeningSYN.scene(net)
        let (reference, _, _) = Probe.reopeningSYN.scene(net)
        let packet = parse(syn)
        let hash = lane.ct.hash(packet.key)
        #expect(lane.ct.count == 1)

        let step = syn.withUnsafeBytes {
            lane.ct.trackTCPSegment(packet, frame: $0, hash: hash, time: time)
        }
        #expect(step.state.isEmpty && step.prechecked && step.missed)
        #expect(lane.ct.count == 0)
        #expect(lane.ct.stats.replaced == 1)

        let finished = syn.withUnsafeBytes {
            LaneFirst.general(lane.ct, packet, frame: $0, hash: hash, prechecked: true, missed: true, index: 99,
                              time: time)
        }
        let expected = syn.withUnsafeBytes {
            reference.ct.process(packet, frame: $0, hash: hash, packetIndex: 99, time: time, action: Self.action)
        }
        #expect(expected.state == [.tracked, .new])
        #expect(finished == expected)
        #expect(Snapshot(lane.ct) == Snapshot(reference.ct))
    }

    // MARK: - Valid segments

    @Test(arguments: Accepted.allCases, Net.allCases)
    func validSegmentGetsWhatTheGeneralStepsGive(kind: Accepted, net: Net) {
        let lane = kind.scene(net), reference = kind.scene(net)
        var conversation = lane.conversation
        let fromClient = kind == .originData || kind == .related
        let frame = kind == .replyPureACK
            ? conversation.segment(fromClient: false, flags: .ack)
            : conversation.segment(fromClient: fromClient, flags: [.psh, .ack], payload: Self.bytes(300))
        let packet = parse(frame)
        let hash = lane.ct.hash(packet.key)
        let before = Snapshot(lane.ct)

        let step = frame.withUnsafeBytes {
            lane.ct.trackTCPSegment(packet, frame: $0, hash: hash, time: lane.time)
        }
        var state: CTState = [.tracked, .established]
        if !fromClient { state.insert(.reply) }
        if kind == .related { state.insert(.related) }
        #expect(step.state == state)
        #expect(step.prechecked)
        #expect(step.connectionID == 0)
        #expect(step.masterID == (kind == .related ? Accepted.masterID : Connection.noID))
        lane.ct.count(state: step.state)

        let expected = frame.withUnsafeBytes {
            reference.ct.process(packet, frame: $0, hash: hash, packetIndex: 99, time: reference.time,
                                 action: Self.action)
        }
        #expect(PacketVerdict(state: step.state, zone: packet.key.zone, connectionID: step.connectionID,
                              masterID: step.masterID) == PacketVerdict(expected))
        #expect(Snapshot(lane.ct) == Snapshot(reference.ct))
        #expect(Snapshot(lane.ct) != before)  // the windows, the timer and a counter moved
    }
}

// MARK: - Configuration and shared steps

extension TCPLaneTests {
    static let millisecond: UInt64 = 1_000_000
    static let action = CTAction(zone: 0, commit: true)

    /// Short timeouts, so that idle connections expire within the trace: 2 s established.
    static func config(_ checksums: ChecksumPolicy = .count, sweepSteps: Int = 4) -> ConntrackConfig {
        let timeouts = TimeoutPolicy(seconds: [
            .tcpFirstPacket: 3, .tcpOpening: 3, .tcpEstablished: 2, .tcpClosing: 3, .tcpFinWait: 3,
            .tcpClosed: 3, .otherFirst: 3, .otherMultiple: 3, .otherBidir: 3, .icmpFirst: 3, .icmpReply: 3,
        ])
        return ConntrackConfig(maxConnections: 4_096, timeouts: timeouts, checksums: checksums,
                               sweepStepsPerPacket: sweepSteps)
    }

    static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) } }

    /// A partition driven the way `trackTCPSegment`'s contract says: the lane first; a
    /// packet it leaves goes to the general steps, with the precheck skipped when the lane ran it.
    final class LaneFirst {
        let ct: ConntrackPartition
        private(set) var finished = 0, finishedReply = 0, finishedIPv6 = 0

        init(config: ConntrackConfig) { ct = ConntrackPartition(config: config) }

        func process(_ packet: ParsedPacket, frame: UnsafeRawBufferPointer, index: Int, time: UInt64) -> PacketVerdict {
            let hash = ct.hash(packet.key)
            let step = ct.trackTCPSegment(packet, frame: frame, hash: hash, time: time)
            guard step.state.isEmpty else {
                ct.count(state: step.state)
                finished += 1
                if step.state.contains(.reply) { finishedReply += 1 }
                if packet.isIPv6 { finishedIPv6 += 1 }
                return PacketVerdict(state: step.state, zone: packet.key.zone, connectionID: step.connectionID,
                                     masterID: step.masterID)
            }
            return PacketVerdict(LaneFirst.general(ct, packet, frame: frame, hash: hash, prechecked: step.prechecked,
                                                   missed: step.missed, index: index, time: time))
        }

        /// The general steps for a packet the lane left (no ALG, expectations of `ct`'s own):
        /// the look-up skipped when the lane missed.
        static func general(_ ct: ConntrackPartition, _ packet: ParsedPacket, frame: UnsafeRawBufferPointer,
                            hash: UInt64, prechecked: Bool, missed: Bool, index: Int, time: UInt64) -> CTVerdict {
            let found = missed ? nil : ct.precheckAndLookup(packet, key: packet.key, frame: frame, hash: hash,
                                                            time: time, action: action, prechecked: prechecked)
            let verdict = found
                ?? ct.commitNew(packet, key: packet.key, hash: hash, packetIndex: UInt64(index), time: time,
                                action: action, expected: ct.localExpectation(for: packet.key, time: time))
            ct.count(verdict)
            return verdict
        }
    }

    /// Everything of a partition that a packet can change: every stored entry (expired ones not
    /// yet reclaimed included) with its TCP peers, timer and expiry-list bookkeeping, the
    /// sweeper's position, the clock, the counters and the dump.
    struct Snapshot: Equatable {
        struct Entry: Equatable {
            var slot: Int, key: FlowKey, tcp: TCPPeers, otherState: OtherState, alg: ALGKind
            var timeoutClass: TimeoutClass, listClass: TimeoutClass, expiration: UInt64, listedExpiration: UInt64
            var id: UInt64, masterID: UInt64, mark: UInt32
        }
        var entries: [Entry]
        var stored: Int, now: UInt64, sweepCursor: Int, idleSweepVisits: Int, sweepHorizon: UInt64
        var stats: ConntrackStats
        var dump: [String]

        init(_ ct: ConntrackPartition) {
            entries = (0..<ct.store.highWater).compactMap { slot in
                let c = ct.store.entries[slot]
                guard c.id != Connection.noID else { return nil }
                return Entry(slot: slot, key: c.key, tcp: c.tcp, otherState: c.otherState, alg: c.alg,
                             timeoutClass: c.timeoutClass, listClass: c.listClass, expiration: c.expiration,
                             listedExpiration: c.listedExpiration, id: c.id, masterID: c.masterID, mark: c.mark)
            }
            stored = ct.count
            now = ct.now
            sweepCursor = ct.sweepCursor
            idleSweepVisits = ct.idleSweepVisits
            sweepHorizon = ct.store.sweepHorizon
            stats = ct.stats
            dump = ct.dumpConnections()
        }

        /// The same without the clock, the sweeper's state and counter, and the dump (which
        /// lists the connections unexpired by the clock).
        var withoutClockAndSweep: Snapshot {
            var s = self
            s.now = 0
            s.sweepCursor = 0
            s.idleSweepVisits = 0
            s.sweepHorizon = 0
            s.stats.sweepSteps = 0
            s.dump = []
            return s
        }
    }

    /// Counts mismatches and keeps the first one (one issue at the end, not thousands).
    struct Divergences {
        private(set) var count = 0
        private(set) var first = "none"

        mutating func check<T: Equatable>(_ actual: T, _ expected: T, _ what: String) {
            guard actual != expected else { return }
            if count == 0 { first = "\(what): \(actual) != \(expected)" }
            count += 1
        }
    }
}

// MARK: - Scenes for the direct calls

extension TCPLaneTests {
    /// One partition fed through `process` (zone 0, commit) at 1 ms a packet, and the TCP
    /// conversation it has seen so far.
    struct Scene {
        let ct: ConntrackPartition
        var conversation: TCPConversation
        /// Trace time of the next packet.
        var time = TCPLaneTests.millisecond * 1_000
        var index: UInt64 = 0

        init(net: Net, serverPort: UInt16 = 80, sweepSteps: Int = 4) {
            ct = ConntrackPartition(config: TCPLaneTests.config(sweepSteps: sweepSteps))
            conversation = TCPConversation(client: net.client, server: net.server.with(port: serverPort))
        }

        /// Runs one frame through `process`; with `expected`, through its steps with that
        /// expectation given to `commitNew` (a related connection without a real master).
        mutating func feed(_ frame: [UInt8], alg: ALGKind = .none, expected: Conntrack.Expectation? = nil) {
            let packet = parse(frame)
            let action = CTAction(zone: 0, commit: true, alg: alg)
            let hash = ct.hash(packet.key)
            let verdict = frame.withUnsafeBytes { [ct, index, time] bytes in
                guard let expected else {
                    return ct.process(packet, frame: bytes, hash: hash, packetIndex: index, time: time, action: action)
                }
                let verdict = ct.precheck(packet, frame: bytes, zone: 0, time: time)
                    ?? ct.lookupExisting(packet, key: packet.key, frame: bytes, hash: hash, time: time, action: action)
                    ?? ct.commitNew(packet, key: packet.key, hash: hash, packetIndex: index, time: time,
                                    action: action, expected: expected)
                ct.count(verdict)
                return verdict
            }
            #expect(!verdict.state.contains(.invalid), "scene frame \(index) refused")
            index += 1
            time += TCPLaneTests.millisecond
        }

        /// SYN, SYN|ACK, then (unless `stopBeforeLastACK`) ACK and data both ways.
        mutating func establish(alg: ALGKind = .none, expected: Conntrack.Expectation? = nil,
                                stopBeforeLastACK: Bool = false) {
            var frames: [[UInt8]] = []
            conversation.handshake(into: &frames)
            feed(frames[0], alg: alg, expected: expected)
            feed(frames[1])
            guard !stopBeforeLastACK else { return }
            feed(frames[2])
            feed(conversation.segment(fromClient: true, flags: [.psh, .ack], payload: TCPLaneTests.bytes(100)))
            feed(conversation.segment(fromClient: false, flags: [.psh, .ack], payload: TCPLaneTests.bytes(200)))
        }
    }

    /// Packets the lane leaves to the general steps or gives the whole tracker, each with a
    /// scene that makes it so.
    enum Probe: String, CaseIterable, Sendable, CustomTestStringConvertible {
        // Refused before the precheck: not TCP, a fragment, a bad checksum.
        case udp, fragment, badChecksum
        // Refused after it: no live entry, an ALG, a SYN that reopens a closed connection.
        case expired, unknownConnection, newConnectionSYN, ftpConnection, reopeningSYN
        // Finished through the whole tracker: state changes, and a segment it refuses (+inv).
        case syn, finAck, rst, outOfWindow, handshakeACK, halfClosed

        var testDescription: String { rawValue }

        enum Answer { case refusedBeforePrecheck, refusedAfterPrecheck, wholeTracker }

        var answer: Answer {
            switch self {
            case .udp, .fragment, .badChecksum: .refusedBeforePrecheck
            case .expired, .unknownConnection, .newConnectionSYN, .ftpConnection, .reopeningSYN: .refusedAfterPrecheck
            case .syn, .finAck, .rst, .outOfWindow, .handshakeACK, .halfClosed: .wholeTracker
            }
        }

        var refusedBeforePrecheck: Bool { answer == .refusedBeforePrecheck }
        /// Left with no entry for its key in the table (`TCPLaneStep.missed`): the expired
        /// entry and the FTP connection's are there for the general look-up.
        var hasNoEntry: Bool { [.unknownConnection, .newConnectionSYN, .reopeningSYN].contains(self) }
        /// Left to the general steps with nothing changed but the precheck's clock and sweep
        /// (the reopening SYN also removes the old entry: its own test).
        var isRefused: Bool { answer != .wholeTracker && self != .reopeningSYN }

        /// Whether the scene's connection is one the lane takes plain segments of.
        var hasLaneReadyConnection: Bool {
            ![.handshakeACK, .halfClosed, .ftpConnection, .reopeningSYN].contains(self)
        }

        /// The partition before the probe, the probe and its time. The same every call.
        func scene(_ net: Net) -> (scene: Scene, probe: [UInt8], time: UInt64) {
            // No sweep for `expired`: the dead entry stays for the look-up to find.
            var s = Scene(net: net, serverPort: self == .ftpConnection ? 21 : 80, sweepSteps: self == .expired ? 0 : 4)
            s.establish(alg: self == .ftpConnection ? .ftp : .none, stopBeforeLastACK: self == .handshakeACK)
            if self == .halfClosed { s.feed(s.conversation.segment(fromClient: true, flags: [.fin, .ack])) }
            if self == .reopeningSYN {
                s.feed(s.conversation.segment(fromClient: true, flags: [.fin, .ack]))
                s.feed(s.conversation.segment(fromClient: false, flags: .ack))
                s.feed(s.conversation.segment(fromClient: false, flags: [.fin, .ack]))
                s.feed(s.conversation.segment(fromClient: true, flags: .ack))
            }
            let client = s.conversation.client, server = s.conversation.server
            var c = s.conversation
            var time = s.time
            let probe: [UInt8]
            switch self {
            case .syn:
                probe = PacketBuilder.tcp(from: client, to: server, flags: .syn, seq: 77_777,
                                          options: TCPOption.synDefaults)
            case .newConnectionSYN:
                probe = PacketBuilder.tcp(from: client.with(port: client.port + 1), to: server, flags: .syn,
                                          seq: 77_777, options: TCPOption.synDefaults)
            case .reopeningSYN:
                probe = PacketBuilder.tcp(from: client, to: server, flags: .syn, seq: 5_000_000,
                                          options: TCPOption.synDefaults)
            case .finAck:
                probe = c.segment(fromClient: true, flags: [.fin, .ack])
            case .rst:
                probe = c.segment(fromClient: false, flags: [.rst, .ack])
            case .udp:
                probe = PacketBuilder.udp(from: client, to: server, payload: TCPLaneTests.bytes(16))
            case .fragment:
                let whole = c.segment(fromClient: true, flags: [.psh, .ack], payload: TCPLaneTests.bytes(300))
                probe = PacketBuilder.fragment(whole, payloadBytesPerFragment: 128)[0]
                let packet = parse(probe)
                #expect(packet.fragment == .first && packet.tcpFlags == [.psh, .ack])
            case .badChecksum:
                let data = c.segment(fromClient: true, flags: [.psh, .ack], payload: TCPLaneTests.bytes(100))
                probe = Traffic.corrupt(data, payloadAt: net.l4Offset + 20)
            case .outOfWindow:
                // With data: the tracker reads no sequence number from a segment without any.
                probe = PacketBuilder.tcp(from: client, to: server, flags: [.psh, .ack],
                                          seq: c.clientNextSeq &+ 0x4000_0000, ack: c.serverNextSeq,
                                          window: c.clientWindow, payload: TCPLaneTests.bytes(100))
            case .expired:
                probe = c.segment(fromClient: true, flags: [.psh, .ack], payload: TCPLaneTests.bytes(100))
                time += 3 * second  // past the 2 s established timeout
            case .unknownConnection:
                var other = TCPConversation(client: client.with(port: client.port + 1), server: server)
                probe = other.segment(fromClient: true, flags: .ack)
            case .handshakeACK:
                var frames: [[UInt8]] = []
                var fresh = TCPConversation(client: client, server: server)
                fresh.handshake(into: &frames)
                probe = frames[2]
            case .halfClosed:
                probe = c.segment(fromClient: false, flags: .ack)
            case .ftpConnection:
                probe = c.segment(fromClient: true, flags: [.psh, .ack], payload: Array("NOOP\r\n".utf8))
            }
            return (s, probe, time)
        }
    }

    /// Valid segments the lane finishes.
    enum Accepted: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case originData, replyData, replyPureACK
        /// Data on a related connection (committed with an expectation): +rel too.
        case related

        static let masterID: UInt64 = 7_777
        var testDescription: String { rawValue }

        func scene(_ net: Net) -> Scene {
            var s = Scene(net: net)
            var expected: Conntrack.Expectation?
            if self == .related {
                let key = parse(s.conversation.segment(fromClient: true, flags: .syn)).key
                expected = Conntrack.Expectation(key: ExpectationKey(firstPacketOf: key), masterID: Accepted.masterID,
                                       masterKey: key.reversed, alg: .ftp, expiration: .max, announcedAt: 0)
                s.conversation = TCPConversation(client: net.client, server: net.server)
            }
            s.establish(expected: expected)
            return s
        }
    }
}

// MARK: - Random traffic

extension TCPLaneTests {
    /// Frames and their trace times, made once from a fixed seed.
    struct Traffic: Sendable {
        var frames: [[UInt8]] = []
        var times: [UInt64] = []

        static let standard = Traffic(seed: 0xE57A_B115_4ED0_1A4E, packets: 30_000)

        init(seed: UInt64, packets: Int) {
            var maker = TrafficMaker(seed: seed)
            frames.reserveCapacity(packets)
            times.reserveCapacity(packets)
            while frames.count < packets {
                frames.append(maker.nextFrame())
                times.append(maker.time)
            }
        }

        /// Changes one payload byte, so that the L4 checksum is certainly wrong.
        static func corrupt(_ frame: [UInt8], payloadAt offset: Int) -> [UInt8] {
            var frame = frame
            frame[offset] ^= 0x5A
            return frame
        }
    }

    /// 64 TCP flows (every eighth over IPv6) and 6 UDP flows, interleaved at random; time moves
    /// 0-2 ms a packet, and now and then 2.5 s at once (every connection idles past its timeout).
    struct TrafficMaker {
        var rng: Xoshiro256StarStar
        var time: UInt64 = 1_000 * second
        var tcp: [TCPFlow]
        let udp: [UDPFlow]

        init(seed: UInt64) {
            rng = Xoshiro256StarStar(seed: seed)
            tcp = (0..<64).map { i in
                let ports: [UInt16] = [80, 443, 8080, 5001]
                let v6 = i % 8 == 7
                let client = Endpoint(ip: v6 ? "2001:db8:1::\(i + 1)" : "10.0.\(i / 200).\(i % 200 + 1)",
                                      port: UInt16(40_000 + i))
                let server = Endpoint(ip: v6 ? "2001:db8:9::\(i % 4 + 1)" : "10.9.0.\(i % 4 + 1)", port: ports[i % 4])
                return TCPFlow(client: client, server: server)
            }
            udp = (0..<6).map { i in
                let v6 = i == 5
                return UDPFlow(a: Endpoint(ip: v6 ? "2001:db8:5::1" : "10.5.0.\(i + 1)", port: UInt16(5_000 + i)),
                               b: Endpoint(ip: v6 ? "2001:db8:6::1" : "10.6.0.1", port: 53))
            }
        }

        mutating func nextFrame() -> [UInt8] {
            time += UInt64(rng.int(in: 0...2_000)) * 1_000
            if rng.chance(1.0 / 6_000) { time += 2_500 * TCPLaneTests.millisecond }
            if !rng.chance(0.05) {
                for _ in 0..<8 {
                    let i = rng.int(below: tcp.count)
                    guard tcp[i].wakeAt <= time else { continue }
                    if let frame = tcp[i].next(&rng, time: time) { return frame }
                }
            }
            let i = rng.int(below: udp.count)
            return udp[i].datagram(&rng)
        }
    }

    /// One TCP client-server pair: a conversation at a time, opened, used, closed, reopened.
    struct TCPFlow {
        let client: Endpoint, server: Endpoint
        var conversation: TCPConversation
        var open = false
        /// Frames of a scripted exchange (handshake, close, fragments), sent on the next turns.
        var queued: [[UInt8]] = []
        /// After the queue: the flow rests until then.
        var restAfterQueue: UInt64 = 0
        var wakeAt: UInt64 = 0
        var lastData: [UInt8]?

        init(client: Endpoint, server: Endpoint) {
            self.client = client
            self.server = server
            conversation = TCPConversation(client: client, server: server)
        }

        var l4Offset: Int { client.isIPv6 ? 14 + 40 : 14 + 20 }

        /// The flow's next frame, or nil when it goes to rest instead.
        mutating func next(_ rng: inout Xoshiro256StarStar, time: UInt64) -> [UInt8]? {
            if !queued.isEmpty {
                let frame = queued.removeFirst()
                if queued.isEmpty { wakeAt = time + restAfterQueue; restAfterQueue = 0 }
                return frame
            }
            guard open else {
                // Same ports again: a reopen while the old entry lingers, or a new one after it expired.
                conversation = TCPConversation(client: client, server: server,
                                               clientISN: UInt32(truncatingIfNeeded: rng.next()),
                                               serverISN: UInt32(truncatingIfNeeded: rng.next()))
                conversation.handshake(into: &queued)
                open = true
                lastData = nil
                return queued.removeFirst()
            }
            let fromClient = rng.chance(0.5)
            switch rng.int(below: 1_000) {
            case ..<120:
                return conversation.segment(fromClient: fromClient, flags: .ack)
            case ..<150:
                return outOfWindow(&rng, fromClient: fromClient)
            case ..<180:
                let frame = conversation.segment(fromClient: fromClient, flags: [.psh, .ack], payload: payload(&rng))
                return Traffic.corrupt(frame, payloadAt: l4Offset + 20)
            case ..<190:
                let frame = conversation.segment(fromClient: fromClient, flags: .ack)
                return Traffic.corrupt(frame, payloadAt: l4Offset + 16)  // the checksum itself
            case ..<200:
                // Never delivered whole: the conversation does not remember sending it.
                var copy = conversation
                let whole = copy.segment(fromClient: fromClient, flags: [.psh, .ack], payload: payload(&rng, 200...400))
                queued = PacketBuilder.fragment(whole, payloadBytesPerFragment: 128)
                return queued.removeFirst()
            case ..<220:
                if let lastData { return lastData }  // a retransmission
            case ..<235:
                conversation.close(initiatedByClient: fromClient, into: &queued)
                closed(&rng)
                return queued.removeFirst()
            case ..<240:
                closed(&rng)
                wakeAt = time + restAfterQueue
                restAfterQueue = 0
                return conversation.segment(fromClient: fromClient, flags: [.rst, .ack])
            case ..<246:
                wakeAt = time + UInt64(rng.int(in: 2_200...3_500)) * TCPLaneTests.millisecond
                return nil
            default:
                break
            }
            let frame = conversation.segment(fromClient: fromClient, flags: [.psh, .ack], payload: payload(&rng))
            lastData = frame
            return frame
        }

        /// A segment far outside the window: sequence or acknowledgement 2^30 ahead or behind.
        func outOfWindow(_ rng: inout Xoshiro256StarStar, fromClient: Bool) -> [UInt8] {
            var seq = fromClient ? conversation.clientNextSeq : conversation.serverNextSeq
            var ack = fromClient ? conversation.serverNextSeq : conversation.clientNextSeq
            switch rng.int(below: 4) {
            case 0: seq &+= 0x4000_0000
            case 1: seq &-= 0x4000_0000
            case 2: ack &+= 0x4000_0000
            default: ack &-= 0x4000_0000
            }
            return PacketBuilder.tcp(from: fromClient ? client : server, to: fromClient ? server : client,
                                     flags: [.psh, .ack], seq: seq, ack: ack, payload: payload(&rng))
        }

        /// After a close or reset: rest up to 4 s (the closed timeouts are 3 s), then reopen.
        mutating func closed(_ rng: inout Xoshiro256StarStar) {
            open = false
            restAfterQueue = UInt64(rng.int(in: 0...4_000)) * TCPLaneTests.millisecond
        }

        func payload(_ rng: inout Xoshiro256StarStar, _ sizes: ClosedRange<Int> = 1...256) -> [UInt8] {
            (0..<rng.int(in: sizes)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
    }

    /// A UDP pair talking both ways; one datagram in 30 with a bad checksum.
    struct UDPFlow {
        let a: Endpoint, b: Endpoint

        func datagram(_ rng: inout Xoshiro256StarStar) -> [UInt8] {
            let forward = rng.chance(0.5)
            let payload = (0..<rng.int(in: 8...64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let frame = PacketBuilder.udp(from: forward ? a : b, to: forward ? b : a, payload: payload)
            guard rng.chance(1.0 / 30) else { return frame }
            return Traffic.corrupt(frame, payloadAt: (a.isIPv6 ? 14 + 40 : 14 + 20) + 8)
        }
    }
}
