import Histogram

#if canImport(Glibc)
import Glibc
#endif

/// Two latency distributions, as HdrHistograms (3 significant digits, up to 100 s):
/// - dispatch to verdict: for each packet, from the moment its window (batch) was handed to the
///   shards until its verdict was written; queueing behind the packets before it included.
///   The clock is read once per `sampleEvery` packets (a clock read costs ~25 ns here), and the
///   packets finished since the last read are recorded with that reading: an upper bound within
///   one sample's work.
/// - batch service: for each shard and window, the time the shard spent on its share of the
///   window in phase 1 (comparable to the time of one OVS `conntrack_execute` call on a batch).
public struct LatencyRecorder: Sendable {
    public var dispatchToVerdict = Histogram<UInt64>(highestTrackableValue: 100_000_000_000, numberOfSignificantValueDigits: .three)
    public var batchService = Histogram<UInt64>(highestTrackableValue: 100_000_000_000, numberOfSignificantValueDigits: .three)
    /// Packets between two clock reads.
    public static let sampleEvery = 32

    public init() {}

    /// Monotonic clock, ns.
    @inline(__always)
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    @inline(__always)
    public mutating func packetsDone(_ count: Int, dispatchedAt start: UInt64, now: UInt64) {
        guard count > 0 else { return }
        _ = dispatchToVerdict.record(now &- start, count: UInt64(count))  // now >= start: monotonic clock
    }

    @inline(__always)
    public mutating func batchServed(from start: UInt64, to end: UInt64) {
        _ = batchService.record(end &- start)  // end >= start: monotonic clock
    }

    public mutating func merge(_ other: LatencyRecorder) {
        dispatchToVerdict.add(other.dispatchToVerdict)
        batchService.add(other.batchService)
    }
}
