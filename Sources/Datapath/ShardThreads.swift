#if canImport(Glibc)
import Glibc
#endif
import CPrefetch
import Synchronization

/// Dedicated threads for the shards of a run: one per shard, started for the run and gone at
/// its end. The async caller suspends (no cooperative thread is blocked) until the last one
/// finishes.
///
/// Why threads and not the cooperative pool: a window costs a few microseconds of work per
/// shard, and a task-group hand-off per window (a thread wake-up through the pool) cost tens of
/// microseconds on these VMs; the workers instead meet at a spinning barrier (`WindowBarrier`).
enum ShardThreads {
    /// Runs `body(id)` for `id` in `0..<count`, each on a thread of its own, and returns when
    /// all have returned.
    static func run(count: Int, _ body: @escaping @Sendable (Int) -> Void) async {
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            let remaining = Countdown(count)
            for id in 0..<count {
                let job = ThreadJob {
                    body(id)
                    if remaining.finishOne() { finished.resume() }
                }
                job.start()
            }
        }
    }
}

/// How many threads are still running; the last one out says so.
private final class Countdown: Sendable {
    private let left: Atomic<Int>
    init(_ count: Int) { left = Atomic(count) }
    /// True for the caller that brought the count to zero.
    func finishOne() -> Bool { left.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 }
}

/// One detached POSIX thread running a closure.
private final class ThreadJob: Sendable {
    let work: @Sendable () -> Void
    init(_ work: @escaping @Sendable () -> Void) { self.work = work }

    func start() {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let created = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<ThreadJob>.fromOpaque(raw!).takeRetainedValue()
            job.work()
            return nil
        }, context)
        precondition(created == 0, "ShardThreads: pthread_create failed (\(created))")
        pthread_detach(thread)
    }
}

/// A reusable barrier for the shard workers of one run: each `wait` returns once every worker
/// has called it (for this round). Spins first with a pause hint (a round is microseconds
/// apart), then yields the processor so that a worker never starves the one it waits for on a
/// busy machine (more workers than processors: the tests run 8 shards on 2 vCPUs).
/// Acquire/release ordering: everything a worker wrote before `wait` is visible to every worker
/// after it.
final class WindowBarrier: Sendable {
    private let parties: Int
    private let arrived = Atomic<Int>(0)
    private let round = Atomic<Int>(0)

    /// About 20-40 µs of pause-spinning before the first yield.
    static let spinsBeforeYield = 4_000

    init(parties: Int) { self.parties = parties }

    func wait() {
        let current = round.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == parties {
            arrived.store(0, ordering: .relaxed)
            round.store(current &+ 1, ordering: .releasing)
            return
        }
        var spins = 0
        while round.load(ordering: .acquiring) == current {
            spins += 1
            if spins < WindowBarrier.spinsBeforeYield { ct_spin_pause() } else { sched_yield() }
        }
    }
}
