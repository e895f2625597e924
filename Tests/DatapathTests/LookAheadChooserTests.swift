@testable import Datapath
import Testing

/// `LookAheadChooser`: probes both ways in turn, settles on the one whose fastest stretch was
/// faster, lengthens the settled stretch while the same way keeps winning, and is not misled by
/// an interrupted stretch or by stretches too short to time.
@Suite struct LookAheadChooserTests {
    /// Walks one measurement the way a replay loop does (stretches of up to 256 packets), each
    /// way's stretches taking `ringNanos` / `directNanos` per packet (`slowStretch`: the index of
    /// a stretch that takes 100 times longer). Returns the probes' ways in order.
    @discardableResult
    static func measure(_ chooser: inout LookAheadChooser, ringNanos: UInt64, directNanos: UInt64,
                        slowStretch: Int? = nil) -> [Bool] {
        var ways: [Bool] = []
        var stretch = 0
        while chooser.next.timed {
            let (ring, items, _) = chooser.next
            if ways.last != ring { ways.append(ring) }
            let count = min(items, 256)
            var nanos = UInt64(count) * (ring ? ringNanos : directNanos)
            if stretch == slowStretch { nanos *= 100 }
            chooser.record(ring: ring, count: count, nanos: nanos)
            stretch += 1
        }
        return ways
    }

    /// Runs the settled stretch out (untimed), returning its length.
    static func settle(_ chooser: inout LookAheadChooser) -> Int {
        let (ring, items, timed) = chooser.next
        #expect(!timed)
        chooser.record(ring: ring, count: items, nanos: 0)
        return items
    }

    @Test func probesBothWaysInTurnThenSettlesOnTheFaster() {
        var chooser = LookAheadChooser()
        #expect(chooser.next == (ring: true, items: LookAheadChooser.probeItems, timed: true))
        let ways = Self.measure(&chooser, ringNanos: 60, directNanos: 50)
        #expect(ways == [true, false, true, false])
        #expect(!chooser.settledOnRing)
        #expect(chooser.next == (ring: false, items: LookAheadChooser.settledItems, timed: false))

        var other = LookAheadChooser()
        Self.measure(&other, ringNanos: 50, directNanos: 60)
        #expect(other.settledOnRing)
        #expect(other.next.ring && !other.next.timed)
    }

    @Test func anInterruptedStretchDoesNotDecide() {
        // One way is faster, but one of the measurement's stretches (either way's, any of them)
        // was interrupted and took 100 times longer: an average would have chosen the other way.
        let stretches = 2 * LookAheadChooser.probeRounds * LookAheadChooser.probeItems / 256
        for slow in 0..<stretches {
            var ringFaster = LookAheadChooser(), directFaster = LookAheadChooser()
            Self.measure(&ringFaster, ringNanos: 50, directNanos: 55, slowStretch: slow)
            Self.measure(&directFaster, ringNanos: 55, directNanos: 50, slowStretch: slow)
            #expect(ringFaster.settledOnRing, "slow stretch \(slow)")
            #expect(!directFaster.settledOnRing, "slow stretch \(slow)")
        }
    }

    @Test func stretchesTooShortToTimeAreNotCompared() {
        var chooser = LookAheadChooser()
        // A ring stretch of a few packets that read 0 ns (the clock's granularity) must not win.
        chooser.record(ring: true, count: LookAheadChooser.shortestTimed - 1, nanos: 0)
        Self.measure(&chooser, ringNanos: 70, directNanos: 50)
        #expect(!chooser.settledOnRing)
    }

    @Test func theSettledStretchGrowsWhileTheSameWayWinsAndRestartsWhenItChanges() {
        var chooser = LookAheadChooser()
        var lengths: [Int] = []
        for _ in 0..<7 {
            Self.measure(&chooser, ringNanos: 50, directNanos: 80)
            lengths.append(Self.settle(&chooser))
        }
        let base = LookAheadChooser.settledItems
        #expect(lengths == [base, 2 * base, 4 * base, 8 * base, 16 * base, 16 * base, 16 * base])
        #expect(LookAheadChooser.longestSettled == 16 * base)
        Self.measure(&chooser, ringNanos: 80, directNanos: 50)
        #expect(!chooser.settledOnRing)
        #expect(Self.settle(&chooser) == base)
        // After a settled stretch, the next measurement probes again, ring first.
        #expect(chooser.next == (ring: true, items: LookAheadChooser.probeItems, timed: true))
    }
}
