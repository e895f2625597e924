/// Which way a replay loop's look-ahead (`forEachStaged`) walks a table large enough for its
/// prefetches to pay (`ConntrackPartition.lookAheadPays`): through the ring (each packet parsed
/// and hashed a few packets ahead, its slot and entry prefetched) or directly (each packet parsed
/// at its turn). Which is faster depends on the traffic more than on the table's size: the
/// anchor trace, whose 10,000 connections are open ~1,000 at a time, ran 16% slower through the
/// ring; a trace of 20,000 connections all open at once ran 30-45% faster through it (their
/// entries do not fit in the L2 cache, the anchor's open ones do). So the walk measures both.
///
/// Probes alternate the two ways (`probeItems` packets each, `probeRounds` times each), timed
/// by the walk in stretches of up to 256 packets; the way with the fastest stretch wins; then the faster way runs alone for a settled stretch, and the probes begin again
/// (the traffic and the table change). The stretch starts at `settledItems` packets and doubles
/// each time the same way wins again, up to `longestSettled`: where one way is much faster,
/// the probes of the other cost a few hundredths of a percent in the end. The choice changes
/// only where packets are parsed and which prefetches are made: never a verdict.
public struct LookAheadChooser: Sendable {
    /// Packets per probe of one way.
    public static let probeItems = 1_024
    /// Probes of each way per measurement (alternating, ring first).
    public static let probeRounds = 2
    /// Packets the faster way then runs alone before the next measurement, at first.
    public static let settledItems = 131_072
    /// The longest settled stretch (the same way won five times in a row).
    public static let longestSettled = 16 * settledItems
    /// Timed stretches shorter than this are not compared (a clock read costs ~20 ns).
    public static let shortestTimed = 32

    /// Probe number (0 ..< 2 x probeRounds: even ones take the ring), or nil when settled.
    private var probe: Int? = 0
    /// Packets left in the current probe or settled stretch.
    private var left = LookAheadChooser.probeItems
    /// The fastest timed stretch of the current measurement, by way: ns per 256 packets.
    private var fastest: (ring: UInt64, direct: UInt64) = (.max, .max)
    /// The way the last measurement chose.
    public private(set) var settledOnRing = true
    /// The settled stretch after the next measurement if it chooses as the last one did.
    private var nextSettled = LookAheadChooser.settledItems

    public init() {}

    /// The way to walk the next packets, and at most how many of them before asking again; `timed`:
    /// whether to time them (`record`).
    public var next: (ring: Bool, items: Int, timed: Bool) {
        guard let probe else { return (settledOnRing, left, false) }
        return (probe & 1 == 0, left, true)
    }

    /// Notes that `count` packets were walked the way `next` said, in `nanos` when timed.
    /// A measurement compares each way's fastest stretch: a stretch the host interrupted (a
    /// timer, another process) only ever reads slower, so the fastest is the least disturbed.
    public mutating func record(ring: Bool, count: Int, nanos elapsed: UInt64) {
        if probe != nil && count >= LookAheadChooser.shortestTimed {
            let rate = elapsed &* 256 / UInt64(count)
            if ring { fastest.ring = Swift.min(fastest.ring, rate) } else { fastest.direct = Swift.min(fastest.direct, rate) }
        }
        left -= count
        guard left <= 0 else { return }
        if let current = probe, current + 1 < 2 * LookAheadChooser.probeRounds {
            probe = current + 1
            left = LookAheadChooser.probeItems
        } else if probe != nil {
            let ring = fastest.ring <= fastest.direct
            if ring != settledOnRing { nextSettled = LookAheadChooser.settledItems }
            settledOnRing = ring
            probe = nil
            left = nextSettled
            nextSettled = Swift.min(2 * nextSettled, LookAheadChooser.longestSettled)
        } else {
            probe = 0
            left = LookAheadChooser.probeItems
            fastest = (.max, .max)
        }
    }
}
