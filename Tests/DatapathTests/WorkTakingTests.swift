@testable import Datapath
import Conntrack
import Foundation
import Testing
import TraceIO
import TestSupport

/// More shards than workers (`ShardedDatapath(workerCount:)`): a worker runs its home shards of
/// a window and then shards of the others that no one has started. Which worker runs a shard
/// changes from window to window; the verdicts must not.
@Suite(.timeLimit(.minutes(5))) struct WorkTakingTests {
    static func run(_ trace: Trace, shards: Int, workers: Int, batch: Int, loops: Int = 2,
                    atWindowStart: (@Sendable (Int) -> Void)? = nil) async -> (verdicts: [PacketVerdict], summary: DatapathSummary) {
        let datapath = ShardedDatapath(trace: trace, shardCount: shards, workerCount: workers, batch: batch,
                                       hashSeed: ConntrackConfig().hashSeed, collectVerdicts: true, loops: loops) {
            DefaultPipeline()
        }
        datapath.atWindowStart = atWindowStart
        for loop in 0..<loops { await datapath.run(loop: loop) }
        return (datapath.sink!.verdicts, await datapath.summary())
    }

    @Test(arguments: [(8, 2, 16), (5, 2, 7), (6, 3, 32), (4, 1, 8)])
    func verdictsAreTheReferencesWithMoreShardsThanWorkers(shards: Int, workers: Int, batch: Int) async throws {
        for name in ["sample-mixed.pcap", "ftp-active-v4.pcap", "tftp.pcap"] {
            let trace = try TraceLoader.loadComplete(path: TestPaths.packageRoot.appendingPathComponent("traces/\(name)").path)
            let got = await Self.run(trace, shards: shards, workers: workers, batch: batch)
            #expect(got.verdicts == ShardDeterminismTests.reference(trace, loops: 2), "\(name)")
            #expect(got.summary.workers.count == workers)
        }
        let trace = FlowDatapathTests.ftpHeavyTrace()
        let got = await Self.run(trace, shards: shards, workers: workers, batch: batch)
        #expect(got.verdicts == ShardDeterminismTests.reference(trace, loops: 2), "ftp-heavy")
    }

    /// Worker 1 held back at the start of every window: worker 0 runs worker 1's shards that it
    /// has not started, the windows' phase 2 meets shards run by either, and every verdict is
    /// still the reference's.
    @Test func aHeldBackWorkersShardsAreTakenAndTheVerdictsStay() async throws {
        let trace = FlowDatapathTests.ftpHeavyTrace()
        let got = await Self.run(trace, shards: 8, workers: 2, batch: 16) { worker in
            if worker == 1 { usleep(200) }
        }
        #expect(got.verdicts == ShardDeterminismTests.reference(trace, loops: 2))
        let taken = got.summary.workers.map(\.shardWindowsTaken)
        #expect(taken[0] > 0, "worker 0 took none of the held-back worker's shards (\(taken))")
        #expect(got.summary.router.shardWindowsTaken == taken.reduce(0, +))
        #expect(got.summary.router.phaseTwoWindows > 0)
    }
}
