/// Counters of one partition. Plain integers, added up across shards by `merge`.
public struct ConntrackStats: Sendable, Equatable {
    /// Packets per ct_state value (indexed by `CTState.rawValue`).
    public var packetsByState = [UInt64](repeating: 0, count: 256)
    /// +inv packets per reason (indexed by `InvalidReason.rawValue`).
    public var invalidByReason = [UInt64](repeating: 0, count: InvalidReason.allCases.count)
    /// TCP-tracker refusals per TCP reason (indexed by `TCPInvalidReason.rawValue`).
    public var tcpInvalidByReason = [UInt64](repeating: 0, count: TCPInvalidReason.allCases.count)
    /// Connections committed, per IP protocol number.
    public var committedByProtocol = [UInt64](repeating: 0, count: 256)
    public var committed: UInt64 = 0
    public var expired: UInt64 = 0
    /// Connections closed early: a TCP reopen replaced them, or a flush removed them.
    public var replaced: UInt64 = 0
    public var flushed: UInt64 = 0
    /// Commits refused because the partition (or the zone) was full.
    public var refusedByLimit: UInt64 = 0
    public var refusedByZoneLimit: UInt64 = 0
    /// Packets with a bad checksum (counted whether or not enforced).
    public var badChecksums: UInt64 = 0
    /// Sweeper work: list steps taken (bounded per packet).
    public var sweepSteps: UInt64 = 0

    public init() {}

    public mutating func merge(_ other: ConntrackStats) {
        for i in packetsByState.indices { packetsByState[i] += other.packetsByState[i] }
        for i in invalidByReason.indices { invalidByReason[i] += other.invalidByReason[i] }
        for i in tcpInvalidByReason.indices { tcpInvalidByReason[i] += other.tcpInvalidByReason[i] }
        for i in committedByProtocol.indices { committedByProtocol[i] += other.committedByProtocol[i] }
        committed += other.committed
        expired += other.expired
        replaced += other.replaced
        flushed += other.flushed
        refusedByLimit += other.refusedByLimit
        refusedByZoneLimit += other.refusedByZoneLimit
        badChecksums += other.badChecksums
        sweepSteps += other.sweepSteps
    }

    /// Non-zero ct_state counts, keyed by the state's `+trk+est` text.
    public var stateCounts: [(state: CTState, packets: UInt64)] {
        packetsByState.enumerated().compactMap { index, count in
            count == 0 ? nil : (CTState(rawValue: UInt8(index)), count)
        }
    }
}
