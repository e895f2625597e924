import ApplicationGateways
import Histogram
import Conntrack
import Datapath
import Foundation
import PacketParsing

extension RunReport {
    /// Gathers the figures of a finished run.
    init(summary: DatapathSummary, loaded: LoadedTraces, loops: Int, threads: Int, shards shardCount: Int? = nil,
         batch: Int?, seconds: Double, settings: TableOptions.Settings, collectsVerdicts: Bool = false, receiveBuffers: Bool = true) {
        let ct = summary.conntrack
        let counters = summary.pipeline
        let expectationStats = summary.expectations
        let algStats = summary.alg
        var states: [String: UInt64] = [:]
        var statesOVS: [String: UInt64] = [:]
        for (state, count) in ct.stateCounts {
            states[state.description] = count
            statesOVS[state.ovsDescription] = count
        }
        var committedByProtocol: [String: UInt64] = [:]
        for (proto, count) in ct.committedByProtocol.enumerated() where count != 0 {
            committedByProtocol[RunReport.protocolName(proto)] = count
        }
        self.init(
            traces: loaded.trace.name.split(separator: "+").map(String.init),
            packets: counters.packets, bytes: counters.bytes, loops: loops, threads: threads, batch: batch,
            seconds: seconds,
            pps: Double(counters.packets) / seconds,
            gbps: Double(counters.bytes) * 8 / seconds / 1e9,
            mode: batch == nil ? "single-partition" : "sharded",
            parse: RunReport.named(counters.parseOutcomes, ParseOutcome.allCases, \.name),
            parseMalformed: counters.malformed,
            states: states, statesOVS: statesOVS,
            connections: Connections(
                committed: ct.committed, live: summary.liveConnections, expired: ct.expired,
                replaced: ct.replaced, refusedByLimit: ct.refusedByLimit,
                refusedByZoneLimit: ct.refusedByZoneLimit, maxConnections: summary.maxConnections,
                bytesPerSlot: summary.bytesPerConnectionSlot, committedByProtocol: committedByProtocol,
                badChecksums: ct.badChecksums),
            invalid: RunReport.named(ct.invalidByReason, InvalidReason.allCases, \.name),
            tcpInvalid: RunReport.named(ct.tcpInvalidByReason, TCPInvalidReason.allCases, \.name),
            expectations: Expectations(
                live: summary.liveExpectations, created: expectationStats.created,
                matched: expectationStats.matched, expired: expectationStats.expired,
                orphaned: expectationStats.orphaned, duplicates: expectationStats.duplicates,
                clashes: expectationStats.clashes, evictedByMasterLimit: expectationStats.evictedByMasterLimit,
                refusedByTableLimit: expectationStats.refusedByTableLimit),
            alg: ALG(
                ftpAnnouncements: RunReport.named(algStats.ftpAnnouncements, FTPMode.allCases, \.name),
                ftpRejected: RunReport.named(algStats.ftpRejected, FTPRejectReason.allCases, \.name),
                tftpRequests: algStats.tftpRequests, tftpMalformed: algStats.tftpMalformed),
            forwarded: counters.forwarded, dropped: counters.dropped,
            shards: Shards(packets: summary.packetsPerShard, liveConnections: summary.liveConnectionsPerShard,
                           parkedPackets: summary.router.parkedPackets, windows: summary.router.windows,
                           phaseTwoWindows: summary.router.phaseTwoWindows,
                           barrierWait: summary.router.barrierWaitShare,
                           longBarrierWait: summary.router.longBarrierWaitShare,
                           barrierWaitByWorker: summary.workers.map(\.barrierWaitShare), barrierSleeps: summary.router.barrierSleeps,
                           shardWindowsTakenByWorker: summary.workers.map(\.shardWindowsTaken)),
            crossShardMessages: CrossShard(
                total: summary.router.crossShardMessages, expectations: summary.router.expectationsSent,
                lookups: summary.router.lookupsSent, masterChecks: summary.router.masterChecksSent,
                masterDeaths: summary.router.masterDeathsSent,
                perPacket: Double(summary.router.crossShardMessages) / Double(max(counters.packets, 1))),
            latencyNs: summary.latency.map { Percentiles($0.dispatchToVerdict) },
            batchServiceNs: summary.latency.map { Percentiles($0.batchService) },
            lookAhead: LookAheadWays(ringPackets: summary.lookAheadRingPackets, directPackets: summary.lookAheadDirectPackets),
            peakRSSBytes: ResourceUsage.peakRSSBytes, traceBytes: UInt64(loaded.trace.totalBytes),
            skippedInput: loaded.skippedAnything,
            memoryPrediction: MemoryPrediction(MemoryPrediction.Inputs(
                baselineBytes: loaded.rssBeforeLoading, packets: loaded.trace.count,
                frameBufferBytes: loaded.trace.totalBytes, fileBytes: loaded.fileBytes, partitions: shardCount ?? threads,
                sharded: batch != nil, receiveBuffers: receiveBuffers, settings: settings,
                ftpControlConnections: settings.algsEnabled ? MemoryPrediction.ftpControlConnections(in: loaded.trace) : 0,
                loops: loops, measuresLatency: summary.latency != nil, collectsVerdicts: collectsVerdicts)),
            peakRSSWithinPrediction: true)
        peakRSSWithinPrediction = memoryPrediction.holds(peakRSSBytes: peakRSSBytes)
    }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

extension RunReport.Percentiles {
    init(_ histogram: Histogram<UInt64>) {
        self.init(p50: histogram.valueAtPercentile(50), p90: histogram.valueAtPercentile(90),
                  p99: histogram.valueAtPercentile(99), p999: histogram.valueAtPercentile(99.9),
                  max: histogram.max, count: histogram.totalCount)
    }
}
