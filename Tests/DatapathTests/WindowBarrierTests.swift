@testable import Datapath
import Synchronization
import Testing

/// The shard workers' barrier and threads: no worker leaves a round before every worker has
/// arrived, with or without work done while waiting, pinned or not, and with more workers than
/// processors (the barrier must then yield and sleep rather than spin the others out).
/// The time limit catches a hang: a few seconds in a plain run, but under ThreadSanitizer, in
/// parallel with the rest of the suite on two cores, a case has taken over a minute.
@Suite(.timeLimit(.minutes(5))) struct WindowBarrierTests {
    final class Round: Sendable {
        let barrier: WindowBarrier
        let arrivals = Atomic<Int>(0)
        let early = Atomic<Int>(0)
        init(parties: Int) { barrier = WindowBarrier(parties: parties) }
    }

    @Test(arguments: [(2, true, false), (2, false, true), (8, true, true), (8, false, false)])
    func nobodyLeavesARoundEarly(workers: Int, pin: Bool, fill: Bool) async {
        let rounds = 2_000
        let state = Round(parties: workers)
        await ShardThreads.run(count: workers, pin: pin) { _ in
            var filled = 0
            for round in 1...rounds {
                state.arrivals.add(1, ordering: .relaxed)
                if fill {
                    // Some work while waiting, bounded as a shard's look-ahead is.
                    state.barrier.wait {
                        guard filled < 3 * round else { return false }
                        filled += 1
                        return true
                    }
                } else {
                    state.barrier.wait()
                }
                if state.arrivals.load(ordering: .relaxed) < round * workers { state.early.add(1, ordering: .relaxed) }
            }
        }
        #expect(state.early.load(ordering: .relaxed) == 0)
        #expect(state.arrivals.load(ordering: .relaxed) == rounds * workers)
    }
}
