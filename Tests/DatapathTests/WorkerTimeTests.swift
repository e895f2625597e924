import Conntrack
import Datapath
import Testing
import TraceIO
import TestSupport

/// The sharded datapath's time accounting: each worker's work and barrier waits, and the part of
/// the waits spent in long ones (a stopped worker rather than one window's imbalance).
@Suite struct WorkerTimeTests {
    @Test func longWaitShareIsAPartOfTheWorkersTime() {
        var stats = RouterStats()
        stats.workNanos = 900
        stats.barrierWaitNanos = 100
        stats.longBarrierWaitNanos = 40
        #expect(stats.barrierWaitShare == 0.1)
        #expect(stats.longBarrierWaitShare == 0.04)
        var total = RouterStats()
        total.add(stats)
        total.add(stats)
        #expect(total.longBarrierWaitNanos == 80)
        #expect(total.longBarrierWaitShare == 0.04)
        #expect(RouterStats().longBarrierWaitShare == 0)
    }

    @Test(arguments: [1, 2, 3])
    func eachWorkerIsAccountedFor(shards: Int) async throws {
        let trace = try TraceLoader.loadComplete(path: TestPaths.packageRoot.appendingPathComponent("traces/sample-mixed.pcap").path)
        let datapath = ShardedDatapath(trace: trace, shardCount: shards, batch: 8, hashSeed: ConntrackConfig().hashSeed,
                                       collectVerdicts: false) { DefaultPipeline() }
        await datapath.run(loop: 0)
        await datapath.run(loop: 1)
        let summary = await datapath.summary()
        guard shards > 1 else {
            #expect(summary.workers.isEmpty)  // one shard runs alone: no worker threads, no barrier
            return
        }
        #expect(summary.workers.count == shards)
        for worker in summary.workers {
            #expect(worker.workNanos > 0)
            #expect(worker.longBarrierWaitNanos <= worker.barrierWaitNanos)
        }
        #expect(summary.workers.map(\.workNanos).reduce(0, +) == summary.router.workNanos)
        #expect(summary.workers.map(\.barrierWaitNanos).reduce(0, +) == summary.router.barrierWaitNanos)
        #expect(summary.workers.map(\.longBarrierWaitNanos).reduce(0, +) == summary.router.longBarrierWaitNanos)
    }
}
