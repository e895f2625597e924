import ApplicationGateways
import Conntrack
import Datapath
import PacketParsing
import TraceIO

/// ctbench's prediction of its own peak resident memory, made from the sizes it is given
/// before anything runs: the table limits (`--max-conns`, `--max-expectations`), the shard
/// count, and the preloaded trace. Reported next to the measured peak RSS (JSON
/// `memory_prediction`; README, "Memory prediction"); ctbench warns when the peak exceeds it.
///
/// Every component is an upper bound on what its owner can make resident:
/// - baseline: the process's RSS before the traces were loaded (runtime, libraries).
/// - trace: the frame buffer (rounded to its 2 MiB huge-page allocation), the records array
///   (capacity at most the loader's first guess or twice the packets), the monotonic trace
///   times, and the shard dispatch queues (4 bytes a packet, up to twice that after growth);
///   with two shards or more, their receive buffers too (each shard's own copy of its frames
///   and records: one more frame buffer and records array, `ReceiveBuffer`; not with
///   `--shared-frames`).
/// - loading: while a capture loads, the assembler's buffer and its copy are both alive (and
///   so are the parts of several traces while they are joined): one more frame buffer.
/// - connection tables: each partition's index and every entry of its limit
///   (`ConntrackPartition.tableBytes`), as if every table filled.
/// - expectations: each partition's limit times a dictionary-based bound per expectation, plus
///   its expiry queue (which stays within twice the live ones plus 1,024 entries).
/// - ALG state: FTP stream state for every control connection the trace can open (its SYNs to
///   port 21, at most the connection limit).
/// - verdicts: with `--verdicts`, the verdict array and the text lines.
/// - fixed: per shard, the latency histograms (and the merged copy) and counters; plus 8 MiB
///   for the allocator's own bookkeeping and the thread stacks.
///
/// The peak is the baseline plus the larger of the loading phase (trace + loading) and the
/// replay phase (everything but loading).
struct MemoryPrediction: Codable, Equatable {
    var baselineBytes: UInt64
    var traceBytes: UInt64
    var loadingBytes: UInt64
    var connectionTableBytes: UInt64
    var expectationBytes: UInt64
    var algStateBytes: UInt64
    var verdictBytes: UInt64
    var fixedBytes: UInt64
    var predictedPeakBytes: UInt64

    /// What the prediction is made from.
    struct Inputs {
        var baselineBytes: UInt64
        /// Packets of one loop, and the frame buffer's size (`Trace.totalBytes`).
        var packets: Int
        var frameBufferBytes: Int
        /// Size of the capture files (the loader's first guess at the packet count is a 128th).
        var fileBytes: Int
        /// Partitions: the shard count, or 1 for `--single-partition`.
        var partitions: Int
        var sharded: Bool
        /// Whether two shards or more copy their frames (`ShardedDatapath`'s `receiveBuffers`).
        var receiveBuffers = true
        /// The limits of the whole datapath (split among the shards as `run` does).
        var settings: TableOptions.Settings
        /// FTP control connections the trace can open (SYNs to port 21).
        var ftpControlConnections: Int
        var loops: Int
        var measuresLatency: Bool
        var collectsVerdicts: Bool
    }

    static let page = 4_096
    static let hugePage = 2 << 20
    /// Allocator bookkeeping, thread stacks, the report: a fixed allowance.
    static let processSlack = 8 << 20
    /// Per shard: actor, pipeline objects, counter arrays, parked-packet lists.
    static let perPartitionFixed = 512 << 10

    init(_ inputs: Inputs) {
        let p = MemoryPrediction.self
        let buffer = inputs.frameBufferBytes >= p.hugePage
            ? roundUp(inputs.frameBufferBytes, to: p.hugePage) : roundUp(inputs.frameBufferBytes, to: p.page)
        let records = max(inputs.fileBytes / 128, 2 * inputs.packets) * MemoryLayout<PacketRecord>.stride
        let queues = inputs.sharded ? 2 * inputs.packets * MemoryLayout<Int32>.stride : 0
        let receiveBuffers = inputs.sharded && inputs.receiveBuffers && inputs.partitions > 1
            ? inputs.frameBufferBytes + inputs.partitions * p.hugePage + inputs.packets * MemoryLayout<PacketRecord>.stride : 0
        let trace = buffer + records + inputs.packets * MemoryLayout<UInt64>.stride + queues + receiveBuffers
        let shards = max(inputs.partitions, 1)
        let settings = inputs.sharded ? inputs.settings.dividedAmong(shards) : inputs.settings
        let tables = shards * ConntrackPartition.tableBytes(maxConnections: settings.conntrack.maxConnections)
        let algs = inputs.settings.algsEnabled
        let expectations = algs
            ? shards * (settings.expectations.maxExpectations * p.bytesPerExpectation + p.expiryQueueAllowance) : 0
        let ftp = min(inputs.ftpControlConnections, inputs.settings.conntrack.maxConnections)
        let algState = algs ? ftp * p.bytesPerFTPStream(maximumLineLength: inputs.settings.alg.maximumLineLength) : 0
        let verdicts = inputs.collectsVerdicts
            ? inputs.packets * inputs.loops * (MemoryLayout<PacketVerdict>.stride + p.bytesPerVerdictLine) : 0
        let histograms = inputs.measuresLatency ? 2 * p.histogramBytes : 0
        let fixed = shards * (p.perPartitionFixed + histograms) + histograms + p.processSlack
        let replay = trace + tables + expectations + algState + verdicts + fixed
        let loading = buffer + p.page * 64  // and libpcap's read buffer
        baselineBytes = inputs.baselineBytes
        traceBytes = UInt64(trace)
        loadingBytes = UInt64(loading)
        connectionTableBytes = UInt64(tables)
        expectationBytes = UInt64(expectations)
        algStateBytes = UInt64(algState)
        verdictBytes = UInt64(verdicts)
        fixedBytes = UInt64(fixed)
        predictedPeakBytes = inputs.baselineBytes + UInt64(max(trace + loading + p.processSlack, replay))
    }

    /// One live expectation: its entry in the key dictionary (at most 8/3 buckets each, at a
    /// load factor of 3/4 just past a doubling), its master's key list (one master each, at
    /// worst), and its expiry-queue entries (twice the live ones, in an array up to twice full).
    static var bytesPerExpectation: Int {
        let key = MemoryLayout<ExpectationKey>.stride, value = MemoryLayout<Expectation>.stride
        return (key + value) * 8 / 3 + (8 + 8) * 8 / 3 + 32 + key + 4 * (8 + key)
    }

    /// The expiry queue's 1,024 entries of slack, in an array up to twice full.
    static var expiryQueueAllowance: Int { 2 * 1_024 * (8 + MemoryLayout<ExpectationKey>.stride) }

    /// One FTP control connection's stream state: its dictionary entry (two line assemblers and
    /// the last refused segment of each side), the two line buffers, the refusal reasons.
    static func bytesPerFTPStream(maximumLineLength: Int) -> Int {
        256 * 8 / 3 + 2 * (maximumLineLength + 1 + 32) + 128
    }

    /// A `--verdicts` line: the string (heap-allocated past 15 bytes) in the array, and its
    /// share of the joined text written out.
    static let bytesPerVerdictLine = 128

    /// One latency histogram (HdrHistogram, 3 significant digits, up to 100 s). Taken once: the
    /// estimate reads its counts array's capacity, which the allocator may round differently
    /// from one allocation to the next.
    static let histogramBytes = LatencyRecorder().dispatchToVerdict.estimatedFootprintInBytes

    /// Whether a measured peak stays within the prediction.
    func holds(peakRSSBytes: UInt64) -> Bool { peakRSSBytes <= predictedPeakBytes }

    /// TCP SYNs (without ACK) to port 21 in the trace: the FTP control connections it can open.
    static func ftpControlConnections(in trace: Trace) -> Int {
        var packet = ParsedPacket()
        var count = 0
        for i in 0..<trace.count {
            let record = trace.records[i]
            let outcome = PacketParser(linkType: record.linkType)
                .parse(trace.frame(i), wireLength: Int(record.wireLength), into: &packet)
            if outcome == .ok, packet.key.proto == IPProtocol.tcp, packet.key.dstPort == 21,
               packet.tcpFlags.contains(.syn), !packet.tcpFlags.contains(.ack) {
                count += 1
            }
        }
        return count
    }

    enum CodingKeys: String, CodingKey {
        case baselineBytes = "baseline_bytes", traceBytes = "trace_bytes", loadingBytes = "loading_bytes"
        case connectionTableBytes = "connection_table_bytes", expectationBytes = "expectation_bytes"
        case algStateBytes = "alg_state_bytes", verdictBytes = "verdict_bytes", fixedBytes = "fixed_bytes"
        case predictedPeakBytes = "predicted_peak_rss_bytes"
    }
}

private func roundUp(_ value: Int, to multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }
