/// Counters of the ALG helpers of one shard, added up across shards by `merge`.
public struct ALGStats: Sendable, Equatable {
    /// FTP announcements parsed, per `FTPMode` (`rawValue` index).
    public var ftpAnnouncements = [UInt64](repeating: 0, count: FTPMode.allCases.count)
    /// FTP announcements refused, per `FTPRejectReason` (`rawValue` index).
    public var ftpRejected = [UInt64](repeating: 0, count: FTPRejectReason.allCases.count)
    /// Expectations handed to their owner.
    public var expectationsAnnounced: UInt64 = 0
    public var tftpRequests: UInt64 = 0
    public var tftpMalformed: UInt64 = 0
    /// Packets whose payload was not parsed because it was out of order (a gap in the stream).
    public var ftpGaps: UInt64 = 0

    public init() {}

    public var ftpRejectedTotal: UInt64 { ftpRejected.reduce(0, +) }

    public mutating func merge(_ o: ALGStats) {
        for i in ftpAnnouncements.indices { ftpAnnouncements[i] += o.ftpAnnouncements[i] }
        for i in ftpRejected.indices { ftpRejected[i] += o.ftpRejected[i] }
        expectationsAnnounced += o.expectationsAnnounced
        tftpRequests += o.tftpRequests
        tftpMalformed += o.tftpMalformed
        ftpGaps += o.ftpGaps
    }
}
