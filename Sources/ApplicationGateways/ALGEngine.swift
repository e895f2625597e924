import Conntrack
import PacketParsing

/// Runs the FTP and TFTP helpers for one shard: keeps each ALG connection's stream state, parses
/// its announcements, applies the policy (no FTP bounce, family, privileged ports) and turns the
/// good ones into expectations. It never touches an expectation table itself: it hands each
/// expectation to `emit`, so the caller can deliver it to the owner (the same partition when it
/// runs alone, another shard when sharded).
public final class ALGEngine {
    /// What the helpers accept.
    public struct Policy: Sendable, Equatable {
        /// Refuse announcements of ports below 1024 (off by default, as in Linux and OVS).
        public var rejectPrivilegedPorts: Bool
        /// Longest FTP control line parsed; longer ones are refused and skipped.
        public var maximumLineLength: Int
        /// Lifetime of an expectation, ns of trace time.
        public var expectationTimeout: UInt64

        public init(rejectPrivilegedPorts: Bool = false, maximumLineLength: Int = 256,
                    expectationTimeoutSeconds: UInt64 = 300) {
            self.rejectPrivilegedPorts = rejectPrivilegedPorts
            self.maximumLineLength = maximumLineLength
            self.expectationTimeout = expectationTimeoutSeconds * 1_000_000_000
        }
    }

    public let policy: Policy
    public private(set) var stats = ALGStats()
    private let ftpParser: FTPMessageParser
    /// FTP stream state per control connection id: one line assembler per direction.
    private var ftpStreams: [UInt64: FTPStreams] = [:]

    public init(policy: Policy = Policy()) {
        self.policy = policy
        ftpParser = FTPMessageParser(maximumLineLength: policy.maximumLineLength)
    }

    /// Live FTP stream states (for tests and memory accounting).
    public var trackedStreams: Int { ftpStreams.count }

    /// Inspects a packet that conntrack accepted (not +inv) on a connection with an ALG.
    /// - Returns: true when the packet carried an announcement that was refused: the caller
    ///   marks it +inv, as OVS does.
    public func inspect(
        _ packet: ParsedPacket, frame: UnsafeRawBufferPointer, master: Connection, isReply: Bool,
        packetIndex: UInt64, time: UInt64, emit: (Expectation) -> Void
    ) -> Bool {
        guard packet.payloadLength > 0, !packet.payloadTruncated else { return false }
        let payload = UnsafeRawBufferPointer(rebasing: frame[Int(packet.payloadOffset)..<Int(packet.payloadOffset + packet.payloadLength)])
        switch master.alg {
        case .ftp where packet.key.proto == IPProtocol.tcp:
            return inspectFTP(packet, payload: payload, master: master, isReply: isReply,
                              packetIndex: packetIndex, time: time, emit: emit)
        case .tftp where packet.key.proto == IPProtocol.udp && !isReply:
            return inspectTFTP(payload: payload, master: master, packetIndex: packetIndex, time: time, emit: emit)
        default:
            return false
        }
    }

    /// Forgets the stream state of a connection that went away.
    public func connectionClosed(id: UInt64) {
        ftpStreams.removeValue(forKey: id)
    }

    // MARK: - FTP

    private func inspectFTP(
        _ packet: ParsedPacket, payload: UnsafeRawBufferPointer, master: Connection, isReply: Bool,
        packetIndex: UInt64, time: UInt64, emit: (Expectation) -> Void
    ) -> Bool {
        var rejections: [FTPRejectReason] = []
        let fromClient = !isReply
        let parser = ftpParser
        var announcements: [Result<FTPAnnouncement, FTPRejectReason>] = []
        var accepted: [Expectation] = []
        // A refused packet is dropped, so its sender will retransmit it: a segment that covers
        // bytes of the last refused segment is refused again, for the same reasons.
        if let reasons = ftpStreams[master.id]?.refusal(fromClient: fromClient, seq: packet.tcpSeq, length: payload.count) {
            for reason in reasons { stats.ftpRejected[Int(reason.rawValue)] += 1 }
            return true
        }
        // Mutated in place through the dictionary (no copy of the assembler's line buffer).
        let event = ftpStreams[master.id, default: FTPStreams(maximumLineLength: policy.maximumLineLength)]
            .feed(fromClient: fromClient, seq: packet.tcpSeq, payload: payload) { line in
                switch parser.parse(line, fromClient: fromClient) {
                case .none: break
                case .rejected(let reason): announcements.append(.failure(reason))
                case .announcement(let announcement): announcements.append(.success(announcement))
                }
            }
        for result in announcements {
            switch result {
            case .failure(let reason):
                stats.ftpRejected[Int(reason.rawValue)] += 1
                rejections.append(reason)
            case .success(let announcement):
                stats.ftpAnnouncements[Int(announcement.mode.rawValue)] += 1
                switch expectation(for: announcement, master: master, packetIndex: packetIndex, time: time) {
                case .success(let expectation):
                    accepted.append(expectation)
                case .failure(let reason):
                    stats.ftpRejected[Int(reason.rawValue)] += 1
                    rejections.append(reason)
                }
            }
        }
        if event.position == .gap { stats.ftpGaps += 1 }
        if event.overlongLines > 0 {
            stats.ftpRejected[Int(FTPRejectReason.lineTooLong.rawValue)] += UInt64(event.overlongLines)
            for _ in 0..<event.overlongLines { rejections.append(.lineTooLong) }
        }
        if rejections.isEmpty {
            stats.expectationsAnnounced += UInt64(accepted.count)
            accepted.forEach(emit)
            return false
        }
        // Nothing a refused packet announced counts, not even its good lines.
        ftpStreams[master.id]?.refused(fromClient: fromClient, seq: packet.tcpSeq, length: payload.count, reasons: rejections)
        return true
    }

    /// The expectation an FTP announcement asks for, or why it is refused. Active mode (PORT,
    /// EPRT): the server will connect to the client's announced address, which must be the
    /// client's own. Passive mode (227, 229): the client will connect to the server's announced
    /// address, which must be the server's own (229 carries none: it is the server's).
    func expectation(
        for announcement: FTPAnnouncement, master: Connection, packetIndex: UInt64, time: UInt64
    ) -> Result<Expectation, FTPRejectReason> {
        let client = master.key.src, server = master.key.dst
        let active = announcement.mode == .port || announcement.mode == .eprt
        let (initiator, peer) = active ? (server, client) : (client, server)
        if let family = announcement.family, family != master.key.family { return .failure(.familyMismatch) }
        let listener = announcement.address ?? peer
        if listener != peer { return .failure(.addressNotControlPeer) }
        if policy.rejectPrivilegedPorts && announcement.port < 1024 { return .failure(.privilegedPort) }
        let key = ExpectationKey(src: initiator, dst: listener, dstPort: announcement.port,
                                 proto: IPProtocol.tcp, family: master.key.family, zone: master.key.zone)
        return .success(Expectation(
            key: key, masterID: master.id, masterKey: master.key, alg: .ftp, expiration: time &+ policy.expectationTimeout,
            announcedAt: packetIndex, mark: master.mark, label: CTLabel(high: master.labelHigh, low: master.labelLow)))
    }

    // MARK: - TFTP

    /// A read or write request from the client to the server's port 69 expects the server's
    /// answer from any port back to the client's port.
    private func inspectTFTP(
        payload: UnsafeRawBufferPointer, master: Connection, packetIndex: UInt64, time: UInt64,
        emit: (Expectation) -> Void
    ) -> Bool {
        switch TFTPRequestParser().parse(payload) {
        case .request:
            stats.tftpRequests += 1
            let key = ExpectationKey(src: master.key.dst, dst: master.key.src, dstPort: master.key.srcPort,
                                     proto: IPProtocol.udp, family: master.key.family, zone: master.key.zone)
            stats.expectationsAnnounced += 1
            emit(Expectation(key: key, masterID: master.id, masterKey: master.key, alg: .tftp, expiration: time &+ policy.expectationTimeout,
                             announcedAt: packetIndex, mark: master.mark,
                             label: CTLabel(high: master.labelHigh, low: master.labelLow)))
            return false
        case .rejected:
            // Counted, not +inv: like OVS's TFTP helper we do not police the protocol itself.
            stats.tftpMalformed += 1
            return false
        case .none:
            return false
        }
    }
}

/// The two directions of an FTP control stream, and the last refused segment of each.
struct FTPStreams {
    var fromClient: FTPLineAssembler
    var fromServer: FTPLineAssembler
    var refusedFromClient: RefusedSegment?
    var refusedFromServer: RefusedSegment?

    /// A segment whose announcements were refused: its sequence range and why.
    struct RefusedSegment {
        var start: UInt32
        var length: UInt32
        var reasons: [FTPRejectReason]

        /// Whether `[seq, seq + length)` shares a byte with it (serial-number arithmetic).
        func overlaps(seq: UInt32, length other: Int) -> Bool {
            let offset = Int64(Int32(bitPattern: seq &- start))  // wrapping: distance mod 2^32
            return offset < Int64(length) && offset + Int64(other) > 0
        }
    }

    func refusal(fromClient: Bool, seq: UInt32, length: Int) -> [FTPRejectReason]? {
        guard let refused = fromClient ? refusedFromClient : refusedFromServer,
              refused.overlaps(seq: seq, length: length) else { return nil }
        return refused.reasons
    }

    mutating func refused(fromClient: Bool, seq: UInt32, length: Int, reasons: [FTPRejectReason]) {
        let segment = RefusedSegment(start: seq, length: UInt32(truncatingIfNeeded: length), reasons: reasons)
        if fromClient { refusedFromClient = segment } else { refusedFromServer = segment }
    }

    init(maximumLineLength: Int) {
        fromClient = FTPLineAssembler(maximumLineLength: maximumLineLength, announcingFromClient: true)
        fromServer = FTPLineAssembler(maximumLineLength: maximumLineLength, announcingFromClient: false)
    }

    mutating func feed(fromClient: Bool, seq: UInt32, payload: UnsafeRawBufferPointer,
                       _ onLine: (UnsafeRawBufferPointer) -> Void) -> FTPStreamEvent {
        fromClient
            ? self.fromClient.feed(seq: seq, payload: payload, onLine)
            : fromServer.feed(seq: seq, payload: payload, onLine)
    }
}
