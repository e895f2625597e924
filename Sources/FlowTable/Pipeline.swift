import Conntrack
import PacketParsing

/// The ports a packet is output to, in execution order (duplicates kept, as OVS outputs twice),
/// held inline: up to `capacity` ports, more set `overflowed`.
public struct OutputPorts: Sendable {
    public static let capacity = 8
    @usableFromInline var storage = InlineArray<8, Int>(repeating: 0)
    @usableFromInline var storedCount = 0
    @usableFromInline var storedOverflow = false
    /// Ports listed.
    @inlinable public var count: Int { storedCount }
    /// More than `capacity` outputs were executed; the extra ones are not listed.
    @inlinable public var overflowed: Bool { storedOverflow }

    @inlinable public init() {}

    @inlinable public var isEmpty: Bool { count == 0 }

    @inlinable public subscript(i: Int) -> Int {
        precondition(i >= 0 && i < count, "output index out of range")
        return storage[i]
    }

    @inlinable public mutating func append(_ port: Int) {
        if storedCount < OutputPorts.capacity {
            storage[storedCount] = port
            storedCount += 1
        } else {
            storedOverflow = true
        }
    }

    /// The ports as an array (allocates; for tests and reports).
    public var array: [Int] { (0..<count).map { storage[$0] } }
}

/// What running the pipeline decided for one packet.
public struct PipelineResult: Sendable {
    /// Ports from `output` actions.
    public var outputs = OutputPorts()
    /// A `normal` action ran.
    public var normal = false
    /// `ct(...)` actions executed (calls made to the conntrack closure).
    public var conntrackCalls = 0
    /// Recirculations (`ct(recirc)` / `ct(table=N)` passes after the first).
    public var recirculations = 0
    /// Table lookups that found no flow (each one a drop of that branch).
    public var misses = 0
    /// A resubmit-depth or recirculation limit stopped processing (OVS drops at such limits;
    /// outputs collected before it stay listed).
    public var limitHit = false

    @inlinable public init() {}

    /// Nothing to send the packet to: dropped.
    @inlinable public var isDrop: Bool { outputs.isEmpty && !normal }
}

extension Classifier {
    /// Most nested `resubmit`s (OVS: 64).
    public static let maxResubmitDepth = 64
    /// Most recirculations per packet (OVS's userspace datapath: 6).
    public static let maxRecirculations = 6

    /// Runs the pipeline for one packet, starting at `table` with `key`.
    ///
    /// **Action-list semantics.** A pass looks the key up in a table and executes the hit flow's
    /// actions in order:
    /// - `output:N` appends N to `outputs`; `normal` sets `normal`. Both keep going.
    /// - `drop` (always alone) and an empty list do nothing: a pass that collects no port drops.
    ///   A table miss is a drop too (OpenFlow 1.3+ table-miss default), counted in `misses`.
    /// - `resubmit(,N)` looks the same key up in table N and runs that flow's actions (nested, at
    ///   most `maxResubmitDepth` deep), then continues with the next action here.
    /// - `ct(...)` calls `conntrack` with its spec (the caller runs the partition and returns the
    ///   verdict). Without recirculation the packet continues with the next action, its key's ct
    ///   fields unchanged (OVS's ct without `table=`). With `ct(recirc)` / `ct(table=N)` the pass
    ///   ends there: nothing after it runs, not even the actions after a `resubmit` that led to
    ///   it (the parser rejects actions after a recirculating ct in the same flow); the key takes
    ///   the verdict's ct_state, ct_zone and ct_mark and a new pass starts in the table of the
    ///   flow that ran the ct (`recirc`) or in table N, at most `maxRecirculations` times.
    ///
    /// The closure is not escaping and nothing is allocated.
    @inlinable
    public func run(key: MatchKey, table: UInt8 = 0, conntrack: (CTSpec) -> CTVerdict) -> PipelineResult {
        var result = PipelineResult()
        var key = key
        var table = table
        while true {
            let end = runPass(table: table, key: key, depth: 0, result: &result, conntrack: conntrack)
            guard let next = end else { return result }
            if result.recirculations == Classifier.maxRecirculations {
                result.limitHit = true
                return result
            }
            result.recirculations += 1
            key.ctState = next.verdict.state
            key.ctZone = next.verdict.zone
            key.ctMark = next.verdict.mark
            table = next.table
        }
    }

    /// One lookup and its actions; returns where to recirculate, or nil when the pass is over.
    @inlinable
    func runPass(table: UInt8, key: MatchKey, depth: Int, result: inout PipelineResult,
                 conntrack: (CTSpec) -> CTVerdict) -> (table: UInt8, verdict: CTVerdict)? {
        guard let index = lookupIndex(table: table, key: key) else {
            result.misses += 1
            return nil
        }
        for action in flows[index].actions {
            switch action {
            case .output(let port):
                result.outputs.append(port)
            case .normal:
                result.normal = true
            case .drop:
                break
            case .resubmit(let next):
                if depth + 1 > Classifier.maxResubmitDepth {
                    result.limitHit = true
                    return nil
                }
                if let recirculate = runPass(table: next, key: key, depth: depth + 1, result: &result,
                                             conntrack: conntrack) {
                    return recirculate
                }
                if result.limitHit { return nil }
            case .ct(let spec):
                let verdict = conntrack(spec)
                result.conntrackCalls += 1
                switch spec.recirculation {
                case .none: break
                case .sameTable: return (table, verdict)
                case .table(let next): return (next, verdict)
                }
            }
        }
        return nil
    }
}
