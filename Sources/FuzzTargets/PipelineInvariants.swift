import Conntrack
import Datapath
import PacketParsing

/// What must hold of a `DefaultPipeline` and its verdicts after any input: the tables within
/// their limits and every connection and expectation accounted for ("nothing lost").
enum PipelineInvariants {
    /// One verdict, for the packet at trace index `index`.
    static func check(_ verdict: PacketVerdict, index: Int, _ checks: inout Invariants) {
        let state = verdict.state
        checks.check(state.isEmpty || state.contains(.tracked), "packet \(index): \(state) without +trk")
        checks.check(!(state.contains(.new) && state.contains(.established)), "packet \(index): \(state) is new and established")
        if state.contains(.new) && verdict.connectionID != Connection.noID {
            checks.check(verdict.connectionID == UInt64(index),
                         "packet \(index): new connection with id \(verdict.connectionID), not its own index")
        }
        if state.contains([.new, .related]) {
            checks.check(verdict.masterID != Connection.noID, "packet \(index): +new+rel without a master")
        }
    }

    /// The pipeline after `packets` frames, run alone (its own expectations).
    static func check(_ pipeline: DefaultPipeline, packets: Int, _ checks: inout Invariants) {
        let partition = pipeline.partition
        let ct = partition.stats
        let counters = pipeline.counters
        checks.check(counters.packets == UInt64(packets), "pipeline counted \(counters.packets) packets of \(packets)")
        checks.check(counters.forwarded + counters.dropped == counters.packets,
                     "forwarded \(counters.forwarded) + dropped \(counters.dropped) != packets \(counters.packets)")
        checks.check(partition.count <= partition.config.maxConnections,
                     "\(partition.count) connections stored, limit \(partition.config.maxConnections)")
        checks.check(UInt64(partition.count) == ct.committed - ct.expired - ct.replaced - ct.flushed,
                     "connections: \(partition.count) stored but committed \(ct.committed) - expired \(ct.expired) "
                     + "- replaced \(ct.replaced) - flushed \(ct.flushed)")
        let table = partition.expectations
        let e = table.stats
        checks.check(table.count <= table.limits.maxExpectations,
                     "\(table.count) expectations, limit \(table.limits.maxExpectations)")
        checks.check(UInt64(table.count) == e.created - e.matched - e.expired - e.orphaned - e.evictedByMasterLimit,
                     "expectations: \(table.count) live but created \(e.created) - matched \(e.matched) - expired "
                     + "\(e.expired) - orphaned \(e.orphaned) - evicted \(e.evictedByMasterLimit)")
        let offered = e.created + e.duplicates + e.clashes + e.refusedByTableLimit
        checks.check(pipeline.algs.stats.expectationsAnnounced == offered,
                     "ALGs announced \(pipeline.algs.stats.expectationsAnnounced) expectations, the table saw \(offered)")
    }
}
