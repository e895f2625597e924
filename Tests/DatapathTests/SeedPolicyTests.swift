import Conntrack
import Datapath
import FlowTable
import Testing
import TraceIO

/// Issue 7's "Must show": the seed's two policies, port 1 = 10.1.1.1 and port 2 = 10.1.1.2,
/// over an active FTP session (ARP and a ping first), alone and on 2 and 4 shards.
@Suite struct SeedPolicyTests {
    static let policies = ["seed-flows1.flows", "seed-flows2.flows"]
    /// (shards, batch); shards 0: the single-partition reference.
    static let runs = [(0, 0), (2, 1), (2, 128), (4, 3), (4, 64)]

    /// The session from `client` to `server` and its verdicts under `file`, for each of `runs`.
    func session(_ file: String, client: String, server: String) async throws
        -> (SeedTraces.ActiveFTP, [(label: String, verdicts: [PacketVerdict])]) {
        let policy = try FlowRuns.policy(file, inPorts: FlowRuns.seedPorts)
        let session = SeedTraces.activeFTP(client: client, server: server)
        var results: [(label: String, verdicts: [PacketVerdict])] = []
        for (shards, batch) in Self.runs {
            let verdicts = shards == 0 ? FlowRuns.single(session.trace, policy)
                : await FlowRuns.sharded(session.trace, policy, shards: shards, batch: batch)
            results.append(("\(file), shards \(shards), batch \(batch)", verdicts))
        }
        return (session, results)
    }

    @Test(arguments: policies)
    func clientOnPortOneIsForwardedAndItsDataConnectionIsRelated(file: String) async throws {
        let (session, results) = try await session(file, client: "10.1.1.1", server: "10.1.1.2")
        for (label, verdicts) in results {
            #expect(verdicts.count == session.trace.count)
            let dropped = verdicts.indices.filter { verdicts[$0].action.isDrop }
            #expect(dropped.isEmpty, "\(label): dropped \(dropped.map { verdicts[$0].line(index: $0) })")
            #expect(verdicts.allSatisfy { $0.action != .none })
            // ARP and ICMP go out normally, without conntrack; the rest to the other port.
            for i in 0..<4 {
                #expect(verdicts[i].action.description == "normal" && verdicts[i].state.isEmpty, "\(label): packet \(i)")
            }
            #expect(verdicts[session.controlSYN].action.description == "output:2", "\(label)")
            #expect(verdicts[session.controlSYN + 1].action.description == "output:1", "\(label)")
            let data = verdicts[session.dataSYN]
            #expect(data.state == [.tracked, .new, .related], "\(label): \(data.line(index: session.dataSYN))")
            #expect(data.masterID == UInt64(session.controlSYN), "\(label)")
            #expect(data.action.description == "output:1", "\(label)")
        }
    }

    @Test(arguments: policies)
    func clientOnPortTwoHasItsFirstSYNDropped(file: String) async throws {
        let (session, results) = try await session(file, client: "10.1.1.2", server: "10.1.1.1")
        for (label, verdicts) in results {
            let syn = verdicts[session.controlSYN]
            #expect(syn.action.isDrop && syn.action.description == "drop", "\(label): \(syn.line(index: session.controlSYN))")
            #expect(syn.state == [.tracked, .new])
            #expect(verdicts[0].action.description == "normal")  // ARP still passes
        }
    }

    /// The seed policies are deterministic under any sharding on a busier trace too: the
    /// generated FTP/TFTP mix with clients mapped to port 1 and servers to port 2.
    @Test(arguments: policies)
    func verdictsAreTheSameForAnySharding(file: String) async throws {
        let policy = try FlowRuns.policy(file, inPorts: "1=10.0.0.0/8,2=172.16.0.0/24,1=2001:db8:c1::/64,2=2001:db8:5::/64")
        let trace = FlowDatapathTests.ftpHeavyTrace()
        let expected = FlowRuns.single(trace, policy)
        #expect(expected.contains { $0.state == [.tracked, .new, .related] })
        for (shards, batch) in [(1, 64), (2, 1), (2, 7), (4, 32), (8, 3), (8, 1024)] {
            let got = await FlowRuns.sharded(trace, policy, shards: shards, batch: batch)
            let difference = FlowRuns.firstDifference(expected, got)
            #expect(difference == nil, "\(file), \(shards) shards, batch \(batch): \(difference ?? "")")
        }
    }
}
