import Dispatch

/// The fuzz targets of ctbench, as plain functions of their input bytes (Fuzz/README.md).
///
/// Each target runs one input through a parser, or through the whole datapath, and checks
/// invariants that must hold for any input (tables within their limits, counters that add up,
/// the sharded datapath agreeing with the single partition). A crash is a finding; so is a
/// broken invariant, returned as a list of messages. The libFuzzer executables under Fuzz/
/// trap on a non-empty list; the test suite replays the committed corpus and expects none.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Frames of any link type through the parser and a `DefaultPipeline` (conntrack, TCP
    /// tracker, ICMP errors, checksums, ALGs, expectations).
    case packet
    /// The same frames through the sharded datapath (2 and 4 shards): verdicts must equal the
    /// single partition's.
    case datapath
    /// FTP control bytes through `FTPMessageParser`, `FTPLineAssembler` (every split must give
    /// the same lines) and an FTP control connection in the pipeline (`ALGEngine`).
    case ftp
    /// A datagram to UDP port 69 through `TFTPRequestParser` and the pipeline: the server's
    /// reply is related exactly when the request parsed.
    case tftp
    /// Text through `FlowParser`; parsed flows through the classifier and the action pipeline.
    case flows
    /// Bytes as a capture file through `TraceLoader` (libpcap, `TraceAssembler`) and a replay.
    case pcap

    /// Runs one input; returns the invariants it broke (empty: none).
    public func run(_ input: [UInt8]) async -> [String] {
        switch self {
        case .datapath: await DatapathTarget.run(input)
        default: input.withUnsafeBytes { runSynchronously($0) }
        }
    }

    /// Runs one input from a thread that may block (libFuzzer's): the datapath target waits
    /// for its shards on a semaphore. Never call it from a Swift concurrency task.
    public func runBlocking(_ input: UnsafeRawBufferPointer) -> [String] {
        guard self == .datapath else { return runSynchronously(input) }
        let bytes = [UInt8](input)
        let box = ViolationBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            box.violations = await DatapathTarget.run(bytes)
            done.signal()
        }
        done.wait()
        return box.violations
    }

    private func runSynchronously(_ input: UnsafeRawBufferPointer) -> [String] {
        switch self {
        case .packet: PacketTarget.run(input)
        case .datapath: preconditionFailure("the datapath target is asynchronous")
        case .ftp: FTPTarget.run(input)
        case .tftp: TFTPTarget.run(input)
        case .flows: FlowsTarget.run(input)
        case .pcap: PcapTarget.run(input)
        }
    }

    /// The libFuzzer entry point's body: runs the input and traps, naming the broken
    /// invariants, when there are any.
    public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        let violations = runBlocking(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
        if !violations.isEmpty {
            fatalError("fuzz target \(rawValue): invariant broken: " + violations.joined(separator: "; "))
        }
        return 0
    }
}

/// Carries the datapath target's answer out of its task (written once, before the signal).
private final class ViolationBox: @unchecked Sendable {
    var violations: [String] = []
}
