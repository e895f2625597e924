import Conntrack
import Datapath
import Foundation
import Testing
import TraceIO
@testable import BenchHarness

/// The memory prediction (issue 8, item 5): an upper bound on what the tables and the trace can
/// make resident, linear in the table sizes, reported under documented keys.
@Suite struct MemoryPredictionTests {
    static func settings(maxConns: Int, maxExpectations: Int = 65_536, noALG: Bool = false) throws -> TableOptions.Settings {
        var arguments = ["x.pcap", "--max-conns", "\(maxConns)", "--max-expectations", "\(maxExpectations)"]
        if noALG { arguments.append("--no-alg") }
        return try RunCommand.parse(arguments).table.settings()
    }

    static func predict(maxConns: Int, maxExpectations: Int = 65_536, shards: Int = 1, packets: Int = 1_000_000,
                        noALG: Bool = false) throws -> MemoryPrediction {
        MemoryPrediction(MemoryPrediction.Inputs(
            baselineBytes: 20_000_000, packets: packets, frameBufferBytes: packets * 128, fileBytes: packets * 82,
            partitions: shards, sharded: shards > 1,
            settings: try settings(maxConns: maxConns, maxExpectations: maxExpectations, noALG: noALG),
            ftpControlConnections: 0, loops: 1, measuresLatency: true, collectsVerdicts: false))
    }

    /// Doubling the connection limit adds exactly a table's worth per connection: entry plus
    /// its two index slots (the index is a power of two at least twice the limit) plus the one
    /// slot of the half-size index alive while the last doubling copies it. The sizes are
    /// multiples of 2 MiB, so no rounding hides a term. (With a small trace: the peak is the
    /// larger of the loading and the replay phase.)
    @Test(arguments: [1, 2, 4])
    func growsLinearlyInMaxConns(shards: Int) throws {
        let sizes = [1 << 16, 1 << 17, 1 << 18]
        let peaks = try sizes.map { try Self.predict(maxConns: $0, shards: shards, packets: 10_000).predictedPeakBytes }
        let perConnection = UInt64(MemoryLayout<Connection>.stride + 3 * MemoryLayout<UInt64>.stride)
        #expect(peaks[1] - peaks[0] == UInt64(sizes[0]) * perConnection)
        #expect(peaks[2] - peaks[1] == UInt64(sizes[1]) * perConnection)
    }

    /// Two shards or more read their frames from their own receive buffers: the trace part
    /// holds one more frame buffer and records array than with one shard (whose queue the
    /// trace itself serves), besides the dispatch queues.
    @Test func countsTheShardsReceiveBuffers() throws {
        let packets = 10_000
        let one = try Self.predict(maxConns: 1_000, shards: 1, packets: packets)
        let two = try Self.predict(maxConns: 1_000, shards: 2, packets: packets)
        let four = try Self.predict(maxConns: 1_000, shards: 4, packets: packets)
        let copies = UInt64(packets * 128 + packets * MemoryLayout<TraceIO.PacketRecord>.stride)
        let queues = UInt64(2 * packets * MemoryLayout<Int32>.stride)
        #expect(two.traceBytes >= one.traceBytes + copies + queues)
        #expect(four.traceBytes >= one.traceBytes + copies + queues)
        // The copies hold each frame once (each rounded up to its 2 MiB alignment at most).
        #expect(four.traceBytes - two.traceBytes <= UInt64(2 * MemoryPrediction.hugePage))
        var inputs = MemoryPrediction.Inputs(
            baselineBytes: 20_000_000, packets: packets, frameBufferBytes: packets * 128, fileBytes: packets * 82,
            partitions: 2, sharded: true, settings: try Self.settings(maxConns: 1_000),
            ftpControlConnections: 0, loops: 1, measuresLatency: true, collectsVerdicts: false)
        #expect(MemoryPrediction(inputs).traceBytes == two.traceBytes)
        inputs.receiveBuffers = false  // --shared-frames
        #expect(MemoryPrediction(inputs).traceBytes == one.traceBytes + queues)
    }

    /// Tables are faulted in at start-up only when their entries fit in half the memory
    /// available; a limit far above the machine runs with lazy tables instead of being killed.
    @Test func preallocatesOnlyWhatFitsInHalfTheAvailableMemory() throws {
        let entry = UInt64(MemoryLayout<Connection>.stride)
        #expect(TableOptions.preallocationFits(maxConnections: 1_000_000, available: 2_000_000 * entry))
        #expect(!TableOptions.preallocationFits(maxConnections: 1_000_001, available: 2_000_000 * entry))
        #expect(TableOptions.preallocationFits(maxConnections: 1_000_000, available: nil))
        #expect(!TableOptions.preallocationFits(maxConnections: Int.max, available: UInt64.max))
        #expect(try Self.settings(maxConns: 1_000).conntrack.preallocate)
        #expect(try !Self.settings(maxConns: Int.max / 256).conntrack.preallocate)
        #expect(try !RunCommand.parse(["x.pcap", "--lazy-tables"]).table.settings().conntrack.preallocate)
    }

    @Test func growsLinearlyInMaxExpectationsAndDropsThemWithoutALGs() throws {
        let a = try Self.predict(maxConns: 1_000, maxExpectations: 1_000)
        let b = try Self.predict(maxConns: 1_000, maxExpectations: 2_000)
        let c = try Self.predict(maxConns: 1_000, maxExpectations: 3_000)
        #expect(b.predictedPeakBytes - a.predictedPeakBytes == c.predictedPeakBytes - b.predictedPeakBytes)
        #expect(b.expectationBytes - a.expectationBytes == UInt64(1_000 * MemoryPrediction.bytesPerExpectation))
        #expect(try Self.predict(maxConns: 1_000, noALG: true).expectationBytes == 0)
    }

    /// At least what the partitions really allocate for their tables, single or sharded.
    @Test(arguments: [(100_000, 1), (100_000, 2), (100_000, 4), (1_000, 3)])
    func coversTheTablesTheDatapathAllocates(maxConns: Int, shards: Int) throws {
        let settings = try Self.settings(maxConns: maxConns)
        let each = shards > 1 ? settings.dividedAmong(shards) : settings
        var allocated = 0.0
        for _ in 0..<shards {
            let partition = each.makePipeline().partition
            allocated += partition.bytesPerConnection * Double(partition.config.maxConnections)
        }
        let prediction = try Self.predict(maxConns: maxConns, shards: shards)
        #expect(Double(prediction.connectionTableBytes) >= allocated)
        // Not much more: the half-size index alive while the last doubling copies it, and
        // rounding to huge pages.
        #expect(Double(prediction.connectionTableBytes) <= allocated * 1.5 + Double(shards * 3 * (2 << 20)))
    }

    /// The peak is this program's own (VmHWM): `ru_maxrss` also held the peak of the address
    /// space replaced at exec, so ctbench started from a big test runner reported the runner's.
    @Test func peakRSSIsThisProgramsOwn() {
        let current = ResourceUsage.currentRSSBytes
        #expect(ResourceUsage.statusField("VmHWM:") != nil)
        #expect(ResourceUsage.peakRSSBytes >= current)
    }

    /// The peak covers the baseline, the whole replay phase, and the loading phase.
    @Test func peakCoversEveryComponent() throws {
        let p = try Self.predict(maxConns: 100_000, shards: 2)
        let replay = p.traceBytes + p.connectionTableBytes + p.expectationBytes + p.algStateBytes + p.verdictBytes + p.fixedBytes
        #expect(p.predictedPeakBytes >= p.baselineBytes + replay)
        #expect(p.predictedPeakBytes >= p.baselineBytes + p.traceBytes + p.loadingBytes)
        #expect(p.traceBytes >= 1_000_000 * 128, "the frame buffer at least")
        #expect(p.holds(peakRSSBytes: p.predictedPeakBytes) && !p.holds(peakRSSBytes: p.predictedPeakBytes + 1))
    }

    @Test func jsonKeysAndTheWarning() async throws {
        let command = try RunCommand.parse([Samples.trace("tftp.pcap"), "--json", "--max-conns", "1000"])
        var report = try await command.execute(try command.loadTraces())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try report.jsonText().utf8)) as? [String: Any])
        let prediction = try #require(object["memory_prediction"] as? [String: NSNumber])
        for key in ["predicted_peak_rss_bytes", "baseline_bytes", "trace_bytes", "loading_bytes", "connection_table_bytes",
                    "expectation_bytes", "alg_state_bytes", "verdict_bytes", "fixed_bytes"] {
            #expect(prediction[key] != nil, "memory_prediction.\(key)")
        }
        #expect(object["peak_rss_within_prediction"] is Bool)
        #expect(prediction["connection_table_bytes"]?.intValue == ConntrackPartition.tableBytes(maxConnections: 1_000))
        #expect(report.table().contains("predicted     peak RSS at most "))
        report.peakRSSBytes = report.memoryPrediction.predictedPeakBytes + 1
        report.peakRSSWithinPrediction = false
        #expect(report.table().contains("warning: peak RSS "))
    }
}
