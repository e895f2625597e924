#if canImport(Glibc)
import Glibc
#endif
import CThreadAffinity
import Synchronization

/// Dedicated threads for the shards of a run: one per shard, started for the run and gone at
/// its end. The async caller suspends (no cooperative thread is blocked) until the last one
/// finishes.
///
/// Why threads and not the cooperative pool: a window costs a few microseconds of work per
/// shard, and a task-group hand-off per window (a thread wake-up through the pool) cost tens of
/// microseconds on these VMs; the workers instead meet at a spinning barrier (`WindowBarrier`).
///
/// Pinned (the default), thread k runs on the k-th processor the process may use, as OVS pins
/// its PMD threads. Unpinned, the scheduler sometimes queued a preempted worker behind the
/// other, spinning one on the same processor: both then waited out the spin (p99 barrier
/// waits at the spin length, 10-15% of worker time).
enum ShardThreads {
    /// Runs `body(id)` for `id` in `0..<count`, each on a thread of its own (pinned to
    /// processor `id` modulo their number when `pin`), and returns when all have returned.
    static func run(count: Int, pin: Bool = true, _ body: @escaping @Sendable (Int) -> Void) async {
        let remaining = Countdown(count)
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            for id in 0..<count {
                let job = ThreadJob {
                    if pin { _ = ct_pin_current_thread(Int32(id)) }
                    body(id)
                    if remaining.finishOne() { finished.resume() }
                }
                job.start()
            }
        }
        // Everything the workers wrote happens before this acquiring load of the count they
        // released to zero. (ThreadSanitizer did not see the continuation's hand-off as one,
        // and reported the caller's read of a worker's counter as a data race.)
        precondition(remaining.isZero, "ShardThreads: resumed before every worker finished")
    }
}

/// How many threads are still running; the last one out says so.
private final class Countdown: Sendable {
    private let left: Atomic<Int>
    init(_ count: Int) { left = Atomic(count) }
    /// True for the caller that brought the count to zero.
    func finishOne() -> Bool { left.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 }
    /// True once every thread has finished; an acquiring load, so their writes are visible.
    var isZero: Bool { left.load(ordering: .acquiring) == 0 }
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
/// has called it (for this round). A waiting worker first does the work it was given
/// (`wait(whileWaiting:)`), then spins on a plain load (a round is microseconds apart on an idle
/// machine; no PAUSE: a hypervisor may deschedule a vCPU that executes many), then yields for up
/// to 2 ms, and only then sleeps on a condition variable, so that on a busy machine (more
/// runnable threads than processors: the tests run 8 shards on 2 vCPUs, CI runs tests in
/// parallel) a waiting worker gives its processor to the one it waits for. Sleeping early cost
/// 15-25% of the throughput here: a sleeper was woken 100-150 µs late, by which time the other
/// worker waited at the next barrier and slept in turn.
/// Acquire/release ordering on `round`: everything a worker wrote before `wait` is visible to
/// every worker after it.
///
/// `@unchecked Sendable`: the mutex and condition variable live at fixed heap addresses and are
/// only used through pthread calls; the counters are atomics.
final class WindowBarrier: @unchecked Sendable {
    private let parties: Int
    private let arrived = Atomic<Int>(0)
    private let round = Atomic<Int>(0)
    /// Workers asleep (or about to sleep) on `condition`.
    private let sleepers = Atomic<Int>(0)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    /// Spins (plain loads) before yielding: about 65 µs here.
    static let spinsBeforeSleep = 50_000
    /// Then yields for this long (ns) before sleeping on the condition variable.
    static let yieldNanosBeforeSleep: UInt64 = 2_000_000

    init(parties: Int) {
        self.parties = parties
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Returns true when the wait ended asleep (the spin ran out).
    @discardableResult
    func wait() -> Bool { wait(whileWaiting: { false }) }

    /// Waits as `wait` does, calling `fill` between looks at the round while it returns true
    /// (work that does not depend on the other workers); spins and sleeps once it is false.
    @discardableResult
    func wait(whileWaiting fill: () -> Bool) -> Bool {
        let current = round.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == parties {
            arrived.store(0, ordering: .relaxed)
            round.store(current &+ 1, ordering: .sequentiallyConsistent)
            // A sleeper registers before its last look at `round` (both sequentially
            // consistent): either it sees the new round, or this sees it and wakes it.
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(condition)
                pthread_mutex_unlock(mutex)
            }
            return false
        }
        var filling = true
        while filling {
            if round.load(ordering: .acquiring) != current { return false }
            filling = fill()
        }
        for _ in 0..<WindowBarrier.spinsBeforeSleep {
            if round.load(ordering: .acquiring) != current { return false }
        }
        // Yield before sleeping (see the type's comment): sched_yield keeps the processor awake
        // when no one else wants it and hands it over when someone does.
        let yieldingSince = LatencyRecorder.now()
        var yields = 0
        while round.load(ordering: .acquiring) == current {
            sched_yield()
            yields += 1
            if yields % 16 == 0 && LatencyRecorder.now() &- yieldingSince > WindowBarrier.yieldNanosBeforeSleep { break }
        }
        if round.load(ordering: .acquiring) != current { return false }
        pthread_mutex_lock(mutex)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        while round.load(ordering: .sequentiallyConsistent) == current {
            pthread_cond_wait(condition, mutex)
        }
        sleepers.subtract(1, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
        return true
    }
}
