@testable import Datapath
import Testing

/// Window boundaries of the sharded datapath (`WindowPlan`): they cover the trace in order,
/// hold between three quarters of the target length and the target, and split windows more
/// evenly among the shards than fixed-length windows do.
@Suite struct WindowPlanTests {
    /// A reproducible receive-side assignment of `count` packets to `shards` shards.
    static func assignment(count: Int, shards: Int, seed: UInt64) -> [Int32] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int32((state >> 33) % UInt64(shards))
        }
    }

    /// Mean over windows of the busiest shard's share of the window, times the shard count
    /// (1.0: perfectly even).
    static func meanImbalance(_ shardOf: [Int32], shards: Int, ends: [Int]) -> Double {
        var start = 0, total = 0.0
        for end in ends {
            var counts = [Int](repeating: 0, count: shards)
            for position in start..<end { counts[Int(shardOf[position])] += 1 }
            total += Double(counts.max()! * shards) / Double(end - start)
            start = end
        }
        return total / Double(ends.count)
    }

    @Test(arguments: [(2, 128), (3, 17), (4, 64), (8, 32)])
    func windowsCoverTheTraceWithinTheSlack(shards: Int, batch: Int) {
        let target = shards * batch
        let shardOf = Self.assignment(count: 50_000, shards: shards, seed: UInt64(shards * 1000 + batch))
        let ends = WindowPlan(shardOf: shardOf, shardCount: shards, target: target).ends
        #expect(ends.last == shardOf.count)
        var start = 0
        for (w, end) in ends.enumerated() {
            #expect(end > start)
            if w < ends.count - 1 {
                #expect(end - start >= target - target / 4 && end - start <= target)
            } else {
                #expect(end - start <= target)
            }
            start = end
        }
    }

    @Test(arguments: [2, 4, 8])
    func windowsAreMoreEvenThanFixedOnes(shards: Int) {
        let target = 128 * shards
        let shardOf = Self.assignment(count: 200_000, shards: shards, seed: 7)
        let planned = WindowPlan(shardOf: shardOf, shardCount: shards, target: target).ends
        let fixed = Array(stride(from: target, to: shardOf.count, by: target)) + [shardOf.count]
        let even = Self.meanImbalance(shardOf, shards: shards, ends: planned)
        let uneven = Self.meanImbalance(shardOf, shards: shards, ends: fixed)
        #expect(even < uneven, "planned \(even), fixed \(uneven)")
        // Two shards: about 1.05 with fixed windows of 256 (binomial spread); planned, about 1.037.
        if shards == 2 { #expect(even < 1.04 && uneven > 1.045, "planned \(even), fixed \(uneven)") }
    }

    @Test func shortTracesAreOneWindow() {
        #expect(WindowPlan(shardOf: [0, 1, 1, 0], shardCount: 2, target: 256).ends == [4])
        #expect(WindowPlan(shardOf: [], shardCount: 2, target: 256).ends.isEmpty)
    }
}
