import Conntrack
import Synchronization

/// One loop of the trace through the shards, as every worker thread runs it: windows in
/// lockstep (bulk-synchronous), the workers meeting at a barrier between phases.
///
/// Per window:
/// 1. Phase 1: each worker runs its home shards (`ShardClaims`), then any shard of another
///    worker that no one has started (with more shards than workers, a faster worker takes a
///    bigger share of the window): finish the hits, park the misses, defer events. Barrier.
///    Every worker then reads all reports and derives the same plan from them.
/// 2. Only if something was parked or deferred: phase 2a, each worker on its home shards: the
///    parked packets that cannot involve an expectation (see `plan`). Barrier. Phase 2b, the
///    coordinator (worker 0) alone, on every shard: the rest of the parked packets and the
///    deferred events, in trace order. Barrier.
///
/// Reports are double-buffered by window parity: a worker that finished reading window w's
/// reports may already write window w + 1's, and none can reach w + 2 before everyone passed
/// w + 1's first barrier.
///
/// `@unchecked Sendable`: the report slots, the phase-2a results and the coordinator's
/// counters follow the ownership above (one writer per slot per phase, barrier-ordered reads;
/// in phase 1 a shard's slot is written by the worker that claimed the shard).
final class WindowLoop: @unchecked Sendable {
    typealias Event = (index: Int, owner: Int, event: Shard.Deferred)

    let shards: [Shard]
    /// `shards`, unretained: a shard's reference count, written at every call from whichever
    /// worker ran it, would move its object's first line between the workers' caches.
    private let shardRefs: UnsafeMutableBufferPointer<Unmanaged<Shard>>
    /// Worker threads (at most the shards): each runs `work(worker)`.
    let workers: Int
    let claims: ShardClaims
    /// Each worker's home shards (`ShardClaims.homeShards`).
    let homes: [[Int]]
    let routing: ShardRouting
    let times: [UInt64]
    /// The packets that may announce an expectation, ascending, and every shard's expectation
    /// table by shard id (unretained: the shards own them): read in phase 1 through
    /// `RelatednessCheck`, which holds pointers into these copies (no reference counting per
    /// window or per packet; freed with the loop).
    let announcers: UnsafeMutableBufferPointer<Announcer>
    let tables: UnsafeMutableBufferPointer<Unmanaged<ExpectationTable>>
    let count: Int
    let base: Int
    let shift: UInt64
    /// Where each window ends (`WindowPlan`).
    let windowEnds: [Int]
    let measureLatency: Bool
    /// Called by each worker as it starts a window (tests: a worker held back, so that the
    /// others take its shards); nil in a run.
    let atWindowStart: (@Sendable (_ worker: Int) -> Void)?
    private let barrier: WindowBarrier
    private let reports: UnsafeMutablePointer<Shard.WindowReport>
    private let earlyDeaths: UnsafeMutablePointer<[Event]>
    private let done = Atomic<Int>(0)
    /// Each worker's time accounting, written once by that worker when its loop ends.
    private let workerTimes: UnsafeMutablePointer<RouterStats>
    /// Windows, parked packets and phase-1 events delivered to another shard than the one that
    /// made them: written by the coordinator only, read after the run.
    private(set) var router = RouterStats()

    init(shards: [Shard], workers: Int, routing: ShardRouting, times: [UInt64], announcers: [Announcer], count: Int,
         base: Int, shift: UInt64, windowEnds: [Int], measureLatency: Bool,
         atWindowStart: (@Sendable (_ worker: Int) -> Void)? = nil) {
        self.shards = shards
        shardRefs = .allocate(capacity: shards.count)
        _ = shardRefs.initialize(from: shards.map { Unmanaged.passUnretained($0) })
        self.workers = workers
        claims = ShardClaims(shardCount: shards.count, workers: workers)
        homes = (0..<workers).map(claims.homeShards(of:))
        self.routing = routing
        self.times = times
        self.announcers = .allocate(capacity: announcers.count)
        _ = self.announcers.initialize(from: announcers)
        tables = .allocate(capacity: shards.count)
        _ = tables.initialize(from: shards.map { Unmanaged.passUnretained($0.pipeline.partition.expectations) })
        self.count = count
        self.base = base
        self.shift = shift
        self.windowEnds = windowEnds
        self.measureLatency = measureLatency
        self.atWindowStart = atWindowStart
        barrier = WindowBarrier(parties: workers)
        // A line each (`WindowReport` is 64 bytes): shards next to each other are run by
        // different workers, whose writes would otherwise move a shared line once a window.
        reports = UnsafeMutableRawPointer.allocate(byteCount: 2 * shards.count * MemoryLayout<Shard.WindowReport>.stride,
                                                   alignment: 64).bindMemory(to: Shard.WindowReport.self, capacity: 2 * shards.count)
        reports.initialize(repeating: Shard.WindowReport(), count: 2 * shards.count)
        workerTimes = .allocate(capacity: workers)
        workerTimes.initialize(repeating: RouterStats(), count: workers)
        earlyDeaths = .allocate(capacity: shards.count)
        earlyDeaths.initialize(repeating: [], count: shards.count)
    }

    deinit {
        shardRefs.deallocate()
        announcers.deallocate()
        tables.deallocate()
        reports.deinitialize(count: 2 * shards.count)
        UnsafeMutableRawPointer(reports).deallocate()
        workerTimes.deinitialize(count: workers)
        workerTimes.deallocate()
        earlyDeaths.deinitialize(count: shards.count)
        earlyDeaths.deallocate()
    }

    /// Each worker's time accounting (read after the run).
    var workerTimesByWorker: [RouterStats] { (0..<workers).map { workerTimes[$0] } }

    /// Packets of this loop whose window is finished.
    var packetsDone: Int { done.load(ordering: .relaxed) }

    /// Sleeps a progress interval (returns at once when cancelled).
    static func tick() async -> Bool {
        try? await Task.sleep(for: .milliseconds(200))
        return false
    }

    /// The window loop of worker `worker` (worker 0 coordinates).
    func work(_ worker: Int) {
        // The home shards, the claims and the shards as values the barrier's fill closure below
        // can hold without reference counting: capturing the array and `self`, it retained and
        // released both at every meeting.
        let home = UnsafeMutableBufferPointer<Int>.allocate(capacity: homes[worker].count)
        _ = home.initialize(from: homes[worker])
        defer { home.deallocate() }
        let claims = Unmanaged.passUnretained(claims)
        let shardRefs = shardRefs
        // The others' shards in the order this worker tries them (read from a local: indexing
        // `homes` in the window loop retained and released arrays that both workers read,
        // writing their headers from both caches once a window).
        let steals = (1..<workers).flatMap { homes[(worker + $0) % workers].reversed() }
        let n = shards.count
        var start = 0
        var parity = 0
        var announcerCursor = 0
        var window: UInt32 = 0
        // Shards this worker ran in the current window, and those it claimed for the next one
        // while it waited (to stage their packets: only a shard it ran itself, which no one
        // else may still be running).
        var ranNow = [Bool](repeating: false, count: n)
        var claimedNext = [Bool](repeating: false, count: n)
        // Time accounting: two clock reads per barrier, about 50 ns per window.
        var time = RouterStats()
        var mark = LatencyRecorder.now()
        // Unretained, as the shards: every worker retained and released the barrier at each
        // meeting, two atomic writes to the object's first line from both workers a window.
        let barrier = Unmanaged.passUnretained(barrier)
        func meet(_ fill: () -> Bool = { false }) {
            let arrived = LatencyRecorder.now()
            if barrier._withUnsafeGuaranteedRef({ $0.wait(whileWaiting: fill) }) { time.barrierSleeps += 1 }
            let left = LatencyRecorder.now()
            time.workNanos &+= arrived &- mark
            let waited = left &- arrived
            time.barrierWaitNanos &+= waited
            if waited >= RouterStats.longWaitNanos { time.longBarrierWaitNanos &+= waited }
            mark = left
        }
        defer { workerTimes[worker] = time }
        for end in windowEnds {
            window += 1
            atWindowStart?(worker)
            let range = start..<end
            let dispatchedAt = measureLatency ? LatencyRecorder.now() : 0
            let relatedness = relatedness(range, cursor: &announcerCursor)
            func run(_ shard: Int) {
                ranNow[shard] = true
                shardRefs[shard]._withUnsafeGuaranteedRef {
                    $0.runWindow(range, base: base, shift: shift, dispatchedAt: dispatchedAt, relatedness: relatedness,
                                 into: &reports[parity * n + shard])
                }
            }
            for shard in home where claimedNext[shard] || claims._withUnsafeGuaranteedRef({ $0.claim(shard, window: window) }) {
                claimedNext[shard] = false
                run(shard)
            }
            // Then the others' shards no one has started, from the end of their lists (their
            // owners take theirs from the front).
            for shard in steals where claims._withUnsafeGuaranteedRef({ $0.claim(shard, window: window) }) {
                time.shardWindowsTaken += 1
                run(shard)
            }
            // While others finish phase 1, parse the next packets of the home shards this worker
            // ran (stateless work), each claimed for the next window first.
            var staging = 0
            meet {
                while staging < home.count {
                    let shard = home[staging]
                    if ranNow[shard] && (claimedNext[shard] || claims._withUnsafeGuaranteedRef({ $0.claim(shard, window: window + 1) })) {
                        claimedNext[shard] = true
                        if shardRefs[shard]._withUnsafeGuaranteedRef({ $0.stageAhead() }) { return true }
                    }
                    staging += 1
                }
                return false
            }
            for shard in 0..<n { ranNow[shard] = false }
            let reported = UnsafeBufferPointer(start: reports + parity * n, count: n)
            if let limit = WindowLoop.phaseTwoLimit(reported) {
                for shard in home {
                    shardRefs[shard]._withUnsafeGuaranteedRef { homeShard in
                        homeShard.beginPhaseTwo(windowStart: times[range.lowerBound] &+ shift)
                        // Counted in place (a prefix slice retained the list), and the last
                        // window's deaths replaced only when there were some or are some now.
                        let early = reported[shard].parked.firstIndex { $0 >= limit } ?? reported[shard].parked.count
                        if early > 0 {
                            earlyDeaths[shard] = homeShard.resolveLocally(
                                Array(reported[shard].parked[..<early]), loopLength: count, shift: shift,
                                dispatchedAt: dispatchedAt)
                        } else if !earlyDeaths[shard].isEmpty {
                            earlyDeaths[shard] = []
                        }
                    }
                }
                meet()
                if worker == 0 {
                    router.phaseTwoWindows += 1
                    resolveInOrder(reported, limit: limit, dispatchedAt: dispatchedAt)
                }
                meet()
            }
            if worker == 0 {
                router.windows += 1
                done.store(range.upperBound, ordering: .relaxed)
            }
            start = range.upperBound
            parity ^= 1
        }
    }

    /// What phase 1 of this window may decide about new connections (`RelatednessCheck`): the
    /// window's announcers and every shard's expectation table, which no one changes before
    /// phase 2.
    /// `cursor`: the worker's first announcer not before the last window (windows come in
    /// order, so the window's announcers are found by walking on from it).
    private func relatedness(_ range: Range<Int>, cursor: inout Int) -> RelatednessCheck {
        let first = firstAnnouncer(atOrAfter: range.lowerBound, from: cursor)
        cursor = firstAnnouncer(atOrAfter: range.upperBound, from: first)
        return RelatednessCheck(tables: UnsafeBufferPointer(tables), routing: routing,
                                announcers: UnsafeBufferPointer(rebasing: announcers[first..<cursor]),
                                noneLive: tables.allSatisfy { $0._withUnsafeGuaranteedRef { $0.count == 0 } })
    }

    /// The first announcer at or after trace position `position`, walking on from `start`
    /// (at most a window's worth of steps: announcers are packets of the window).
    private func firstAnnouncer(atOrAfter position: Int, from start: Int) -> Int {
        var index = start
        while index < announcers.count && Int(announcers[index].position) < position { index += 1 }
        return index
    }

    /// Nil when the window needs no phase 2 (nothing parked, nothing deferred). Otherwise the
    /// index below which parked packets may be finished by their own shards in parallel (phase
    /// 2a): when no expectation is live anywhere, a packet can only meet one announced earlier
    /// in this window, and before the first possible announcement (a parked packet that may
    /// announce, or an announcement deferred from phase 1) there is none to meet. 0 when some
    /// expectation is live: everything goes through phase 2b.
    static func phaseTwoLimit(_ reports: UnsafeBufferPointer<Shard.WindowReport>) -> Int? {
        guard reports.contains(where: { !$0.parked.isEmpty || !$0.deferred.isEmpty }) else { return nil }
        guard reports.allSatisfy({ $0.expectationCount == 0 }) else { return 0 }
        var limit = reports.map(\.firstMayAnnounce).min() ?? Int.max
        for report in reports {
            for item in report.deferred {
                if case .expectation = item.event { limit = Swift.min(limit, item.index) }
            }
        }
        return limit
    }

    /// Phase 2b, on the coordinator while every other worker waits: the parked packets at or
    /// after `limit` and every deferred event, one step at a time in trace order. A parked
    /// packet may have caused a master's death on its way (a dead entry found by its look-up):
    /// events sort before the parked packet of the same index, and keep their own order.
    private func resolveInOrder(_ window: UnsafeBufferPointer<Shard.WindowReport>, limit: Int, dispatchedAt: UInt64) {
        var steps: [(index: Int, order: Int, shard: Int, event: Shard.Deferred?)] = []
        for id in 0..<shards.count {
            router.parkedPackets += UInt64(window[id].parked.prefix { $0 < limit }.count)
            for item in earlyDeaths[id] {
                steps.append((item.index, steps.count, item.owner, item.event))
                if case .masterDied(let dead) = item.event, item.owner != routing.shard(of: dead.key) {
                    router.masterDeathsSent += 1
                }
            }
        }
        for id in window.indices {
            // The lists read in place: a report bound by value was a copy, its lists retained.
            for index in window[id].parked where index >= limit { steps.append((index, Int.max, id, nil)) }
            for item in window[id].deferred {
                steps.append((item.index, steps.count, item.owner, item.event))
                if item.owner != id {
                    if case .expectation = item.event { router.expectationsSent += 1 } else { router.masterDeathsSent += 1 }
                }
            }
        }
        steps.sort { ($0.index, $0.order) < ($1.index, $1.order) }
        for step in steps {
            let time = times[step.index % count] &+ shift
            if let event = step.event {
                shards[step.shard].deliver(event, time: time)
            } else {
                router.parkedPackets += 1
                shards[step.shard].resolveParked(step.index, loopLength: count, shift: shift,
                                                 dispatchedAt: dispatchedAt, peers: shards)
            }
        }
    }
}
