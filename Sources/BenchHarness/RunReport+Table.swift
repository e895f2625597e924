import Foundation

extension RunReport {
    /// The readable terminal report.
    func table() -> String {
        var lines: [String] = []
        func row(_ label: String, _ text: String) { lines.append(label.padding(toLength: 14, withPad: " ", startingAt: 0) + text) }
        func counts(_ items: [String: UInt64]) -> String {
            items.isEmpty ? "none" : items.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key) \(group($0.value))" }.joined(separator: ", ")
        }
        lines.append("ctbench \(version): \(traces.joined(separator: ", "))")
        row("replay", "\(group(packets)) packets, \(megabytes(bytes)) in \(String(format: "%.4f", seconds)) s "
            + "(\(loops) loop\(loops == 1 ? "" : "s"), \(threads) thread\(threads == 1 ? "" : "s"))")
        row("throughput", String(format: "%.2f Mpps, %.2f Gbit/s", pps / 1e6, gbps))
        if let passesPPS {
            let sorted = passesPPS.sorted()
            row("passes", "\(passesPPS.count) on fresh tables, the median shown above: "
                + passesPPS.map { String(format: "%.2f", $0 / 1e6) }.joined(separator: ", ")
                + String(format: " Mpps (min %.2f, max %.2f)", sorted[0] / 1e6, sorted[sorted.count - 1] / 1e6))
        }
        if let latencyNs {
            row("latency", "dispatch to verdict " + latencyNs.text + " (\(group(latencyNs.count)) packets)")
        }
        if let batchServiceNs {
            row("batch time", "per shard and batch " + batchServiceNs.text + " (\(group(batchServiceNs.count)) batches)")
        }
        row("fate", "forwarded \(group(forwarded)), dropped \(group(dropped))")
        if let flows, let actions { row("actions", counts(actions) + " (flow table \(flows))") }
        if let batch {
            let layout = shards.packets.count > threads
                ? "\(shards.packets.count) shards on \(threads) threads x batch \(batch)" : "\(threads) x batch \(batch)"
            row("shards", layout + ": packets " + shards.packets.map(group).joined(separator: " / ")
                + String(format: " (imbalance %.2f), parked %@; %@ windows, %@ with a phase 2%@",
                         shards.imbalance, group(shards.parkedPackets), group(shards.windows), group(shards.phaseTwoWindows),
                         barrierText(shards)))
            row("cross-shard", "\(group(crossShardMessages.total)) messages ("
                + String(format: "%.5f", crossShardMessages.perPacket) + " per packet): expectations "
                + "\(group(crossShardMessages.expectations)), look-ups \(group(crossShardMessages.lookups)), "
                + "master checks \(group(crossShardMessages.masterChecks)), master deaths \(group(crossShardMessages.masterDeaths))")
        }
        if let lookAhead {
            row("look-ahead", lookAhead.ringPackets + lookAhead.directPackets == 0 ? "no packets walked"
                : String(format: "%.1f%% of packets parsed ahead with prefetches (ring), %.1f%% at their turn",
                         100 * lookAhead.ringShare, 100 * (1 - lookAhead.ringShare)))
        }
        row("parse", counts(parse))
        row("ct_state", counts(states))
        row("connections", "committed \(group(connections.committed)), live \(group(UInt64(connections.live))), "
            + "expired \(group(connections.expired)), refused by limit \(group(connections.refusedByLimit))"
            + (connections.refusedByZoneLimit > 0 ? " (+\(group(connections.refusedByZoneLimit)) by zone limit)" : "")
            + " of max \(group(UInt64(connections.maxConnections)))")
        row("invalid", counts(invalid) + (tcpInvalid.isEmpty ? "" : "; tcp: " + counts(tcpInvalid)))
        row("expectations", "created \(group(expectations.created)), matched \(group(expectations.matched)), "
            + "expired \(group(expectations.expired)), orphaned \(group(expectations.orphaned)), "
            + "duplicates \(group(expectations.duplicates)), evicted \(group(expectations.evictedByMasterLimit)), "
            + "live \(group(UInt64(expectations.live)))")
        row("ftp", "announcements: " + counts(alg.ftpAnnouncements) + "; rejected: " + counts(alg.ftpRejected))
        row("tftp", "requests \(group(alg.tftpRequests)), malformed \(group(alg.tftpMalformed))")
        row("memory", "peak RSS \(megabytes(peakRSSBytes)) (trace \(megabytes(traceBytes))), "
            + String(format: "%.0f", connections.bytesPerSlot) + " B per connection slot")
        row("predicted", memoryPrediction.text)
        if !peakRSSWithinPrediction { lines.append(memoryWarning) }
        if connections.refusedByLimit > 0 {
            lines.append("note: the table was too small for this trace: \(group(connections.refusedByLimit)) "
                         + "connections were refused (--max-conns \(connections.maxConnections)); see `ctbench sweep`.")
        }
        if skippedInput { lines.append("note: some input was skipped (see the warnings above); exit status 3.") }
        return lines.joined(separator: "\n")
    }

    func group(_ n: UInt64) -> String {
        let digits = String(n)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return out
    }

    func megabytes(_ bytes: UInt64) -> String { String(format: "%.1f MB", Double(bytes) / 1e6) }

    /// The line printed (and written to standard error) when the peak passed the prediction.
    var memoryWarning: String {
        "warning: peak RSS \(megabytes(peakRSSBytes)) exceeded the predicted \(megabytes(memoryPrediction.predictedPeakBytes))"
    }

    /// The shards row's barrier figures: the wait share, each worker's (a gap means one vCPU ran
    /// slower), the part in long waits (a worker stopped), the sleeps. Nothing with one shard.
    private func barrierText(_ shards: Shards) -> String {
        guard !shards.barrierWaitByWorker.isEmpty else { return "" }
        let byWorker = shards.barrierWaitByWorker.map { String(format: "%.1f%%", $0 * 100) }.joined(separator: " / ")
        let taken = shards.shardWindowsTakenByWorker ?? []
        let takenText = taken.contains { $0 > 0 }
            ? "; shard windows taken from another thread " + taken.map(group).joined(separator: " / ") : ""
        return String(format: "; barrier wait %.1f%% of worker time (by worker %@; %.1f%% in waits of 50 µs or more), %@ sleeps",
                      shards.barrierWait * 100, byWorker, shards.longBarrierWait * 100, group(shards.barrierSleeps))
            + takenText
    }
}

extension MemoryPrediction {
    /// `at most 123.4 MB = baseline 9.1 + trace 80.2 + tables 15.7 + ...` (MB).
    var text: String {
        let mb = { (bytes: UInt64) in String(format: "%.1f", Double(bytes) / 1e6) }
        return "peak RSS at most \(mb(predictedPeakBytes)) MB: baseline \(mb(baselineBytes)), trace \(mb(traceBytes)) "
            + "(+\(mb(loadingBytes)) while loading), connection tables \(mb(connectionTableBytes)), expectations "
            + "\(mb(expectationBytes)), ALG state \(mb(algStateBytes)), verdicts \(mb(verdictBytes)), fixed \(mb(fixedBytes))"
    }
}

extension RunReport.Percentiles {
    /// `p50 1.2 µs, p90 ..., p99 ..., p99.9 ..., max ...`
    var text: String {
        func time(_ ns: UInt64) -> String {
            ns < 1_000 ? "\(ns) ns" : ns < 1_000_000 ? String(format: "%.1f µs", Double(ns) / 1e3)
                : String(format: "%.2f ms", Double(ns) / 1e6)
        }
        return "p50 \(time(p50)), p90 \(time(p90)), p99 \(time(p99)), p99.9 \(time(p999)), max \(time(max))"
    }
}
