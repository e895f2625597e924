import Conntrack
import PacketParsing

/// Which shard owns what: a connection (and so every packet of it) belongs to the shard its
/// symmetric 5-tuple hash picks; an ICMP error goes where the connection it quotes lives; an
/// expectation belongs to the shard its `ownerHash` (zone, protocol, address pair) picks.
public struct ShardRouting: Sendable {
    public let shardCount: Int
    public let hashSeed: UInt64

    public init(shardCount: Int, hashSeed: UInt64) {
        precondition(shardCount > 0)
        self.shardCount = shardCount
        self.hashSeed = hashSeed
    }

    /// The shard of a parsed IP packet (zone already set in its key).
    @inline(__always)
    public func shard(of packet: ParsedPacket, frame: UnsafeRawBufferPointer) -> Int {
        shard(ofHash: dispatchHash(of: packet, frame: frame))
    }

    /// The hash that picks a parsed IP packet's shard: its connection's symmetric hash (an ICMP
    /// error's: the quoted packet's).
    @inline(__always)
    public func dispatchHash(of packet: ParsedPacket, frame: UnsafeRawBufferPointer) -> UInt64 {
        if ICMPTracking.isError(packet),
           let inner = ICMPTracking.embeddedKey(packet, frame: frame, zone: packet.key.zone) {
            return inner.symmetricHash(seed: hashSeed)
        }
        return packet.key.symmetricHash(seed: hashSeed)
    }

    /// The shard of a connection key. Packets are dispatched with zone 0 (before any `ct`
    /// runs), so a connection in any zone lives on the shard of its zone-0 hash.
    @inline(__always)
    public func shard(of key: FlowKey) -> Int {
        var key = key
        key.zone = 0
        return shard(ofHash: key.symmetricHash(seed: hashSeed))
    }

    /// The shard that owns an expectation.
    @inline(__always)
    public func owner(of key: ExpectationKey) -> Int { shard(ofHash: key.ownerHash(seed: hashSeed)) }

    /// The shard that owns a master's expectations (all of them: same address pair).
    public func owner(of master: DeadMaster) -> Int {
        owner(of: ExpectationKey(src: master.key.src, dst: master.key.dst, dstPort: 0, proto: master.key.proto,
                                 family: master.key.family, zone: master.key.zone))
    }

    @inline(__always)
    func shard(ofHash hash: UInt64) -> Int {
        // Multiply-shift: the high bits of the hash pick the shard, the low bits the bucket.
        Int(truncatingIfNeeded: ((hash >> 32) &* UInt64(shardCount)) >> 32)
    }
}

/// What crosses between shards, counted.
public struct RouterStats: Sendable, Equatable {
    /// Expectations delivered to an owner other than the creating shard.
    public var expectationsSent: UInt64 = 0
    /// Look-ups (peek, consume) sent to an owner other than the asking shard.
    public var lookupsSent: UInt64 = 0
    /// Master-liveness questions sent to the master's shard.
    public var masterChecksSent: UInt64 = 0
    /// Master deaths delivered to an owner other than the master's shard.
    public var masterDeathsSent: UInt64 = 0
    /// Packets parked in phase 1 (missed their shard's table) and finished in phase 2.
    public var parkedPackets: UInt64 = 0
    /// Windows run.
    public var windows: UInt64 = 0
    /// Windows that needed a phase 2 (something parked or deferred): two more barriers each.
    public var phaseTwoWindows: UInt64 = 0
    /// Worker-thread time in nanoseconds, added over the workers: doing the windows' work, and
    /// waiting at the window barrier for the others (imbalance, a descheduled vCPU).
    public var workNanos: UInt64 = 0
    public var barrierWaitNanos: UInt64 = 0
    /// The part of `barrierWaitNanos` spent in waits of `longWaitNanos` or more: several windows'
    /// work, so not the imbalance of one window but a worker that stopped (its vCPU descheduled
    /// by the host, or its thread preempted).
    public var longBarrierWaitNanos: UInt64 = 0
    /// Barrier waits that ended asleep on the condition variable (the spin ran out).
    public var barrierSleeps: UInt64 = 0
    /// Shard windows a worker ran for another worker (a shard of another's home that no one had
    /// started: `ShardClaims`); 0 with one shard a worker.
    public var shardWindowsTaken: UInt64 = 0

    public init() {}

    /// Where a barrier wait counts as long (`longBarrierWaitNanos`): 50 µs, three windows of
    /// 128 packets a shard at the anchor's ~100 ns a packet.
    public static let longWaitNanos: UInt64 = 50_000

    /// Share of worker time spent in long barrier waits (see `longBarrierWaitNanos`).
    public var longBarrierWaitShare: Double {
        let total = workNanos + barrierWaitNanos
        return total == 0 ? 0 : Double(longBarrierWaitNanos) / Double(total)
    }

    /// Share of worker time spent waiting at the barrier (0 without worker threads).
    public var barrierWaitShare: Double {
        let total = workNanos + barrierWaitNanos
        return total == 0 ? 0 : Double(barrierWaitNanos) / Double(total)
    }

    public var crossShardMessages: UInt64 { expectationsSent + lookupsSent + masterChecksSent + masterDeathsSent }

    /// Adds every counter of `other`.
    public mutating func add(_ other: RouterStats) {
        expectationsSent += other.expectationsSent
        lookupsSent += other.lookupsSent
        masterChecksSent += other.masterChecksSent
        masterDeathsSent += other.masterDeathsSent
        parkedPackets += other.parkedPackets
        windows += other.windows
        phaseTwoWindows += other.phaseTwoWindows
        workNanos += other.workNanos
        barrierWaitNanos += other.barrierWaitNanos
        longBarrierWaitNanos += other.longBarrierWaitNanos
        barrierSleeps += other.barrierSleeps
        shardWindowsTaken += other.shardWindowsTaken
    }
}
