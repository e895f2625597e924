import Conntrack
import Datapath
import Glibc
import TraceIO

/// The `pcap` target: the input written to a temporary file and loaded as a capture (pcap or
/// pcapng, through libpcap and `TraceAssembler`), then replayed through a small pipeline.
///
/// Properties: a file that cannot be read throws a `TraceError` naming it; one that stops
/// part-way names the packet after the last good one; every record lies inside the trace's
/// buffer on a cache-line boundary; the replay keeps the pipeline's accounts.
enum PcapTarget {
    static func run(_ input: UnsafeRawBufferPointer) -> [String] {
        var checks = Invariants()
        var template = Array("/tmp/ctbench-fuzz-pcap-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { return ["mkstemp failed: errno \(errno)"] }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        var written = 0
        while written < input.count {
            let n = write(fd, input.baseAddress! + written, input.count - written)
            if n <= 0 { break }
            written += n
        }
        close(fd)
        let loaded: LoadedTrace
        do {
            loaded = try TraceLoader.load(path: path)
        } catch {
            checks.check(error.path == path, "error names \(error.path), not \(path)")
            checks.check(error.description.contains(path), "message does not name the file: \(error)")
            return checks.violations
        }
        let trace = loaded.trace
        if let error = loaded.error {
            checks.check(error.packetNumber == trace.count + 1,
                         "stopped at packet \(String(describing: error.packetNumber)) with \(trace.count) read")
            checks.check(error.description.contains(path), "message does not name the file: \(error)")
        }
        checks.check(trace.totalBytes <= max(input.count, 0) + trace.count * TraceAssembler.frameAlignment,
                     "\(trace.totalBytes) trace bytes from a \(input.count)-byte file")
        for record in trace.records {
            checks.check(record.offset % UInt64(TraceAssembler.frameAlignment) == 0, "record at \(record.offset) not aligned")
            checks.check(record.offset + UInt64(record.capturedLength) <= UInt64(trace.totalBytes),
                         "record at \(record.offset) + \(record.capturedLength) beyond \(trace.totalBytes) bytes")
        }
        let pipeline = DefaultPipeline(config: ConntrackConfig(maxConnections: 64))
        TraceReplay(trace: trace).run(loop: 0, through: pipeline) { index, verdict in
            PipelineInvariants.check(verdict, index: index, &checks)
        }
        PipelineInvariants.check(pipeline, packets: trace.count, &checks)
        return checks.violations
    }
}
