import Conntrack
import FlowTable
import PacketParsing
import TraceIO

/// A flow-table policy (`FlowPolicy`, `ctbench --flows`) over one conntrack partition and its
/// ALG helpers: each frame's `MatchKey` goes through the classifier, whose `ct(...)` actions
/// run on the partition with their zone, commit, ALG, mark and label. Owns the per-action packet
/// counts and, in a sharded datapath, the ct answers of its parked packets.
///
/// A packet's ct columns are those of its last ct call (`-` when it made none); its action is
/// the pipeline's outputs (`PacketAction`). The ALG sees a packet once per connection, on the
/// first ct call that finds (or commits) a connection with an ALG, as in `DefaultPipeline`.
/// `finishAlone` runs a packet start to finish against this partition's own expectations
/// (single-partition reference); a shard runs the phases in `FlowPipeline+Phases.swift`.
public final class FlowPipeline {
    /// The partition, its ALG helpers, the `--no-alg` switch and the packet counters (its
    /// built-in default policy is not used).
    public let core: DefaultPipeline
    public let policy: FlowPolicy
    /// `core`'s partition and its expectations, held here so the per-packet path reads them
    /// without retaining them.
    public let partition: ConntrackPartition
    let expectations: ExpectationTable
    public internal(set) var actions = ActionCounts()
    /// Parked packets of the current window, in index order, and the next one to resolve.
    var parked: [ParkedFlowPacket] = []
    var nextParked = 0
    /// Symmetric hashes of the 5-tuples that parked in the current window (see `lookup`).
    var parkedTuples: [UInt64] = []
    /// Verdicts of the current packet's ct calls in phase 1 (reused: no allocation per packet).
    var scratch: [CTVerdict] = []

    public init(policy: FlowPolicy, core: DefaultPipeline) {
        self.policy = policy
        self.core = core
        partition = core.partition
        expectations = core.partition.expectations
    }

    /// What the datapath does with a parsed frame.
    enum Ingress {
        /// Final: the frame cannot be classified (malformed below IP).
        case done(PacketVerdict)
        /// Classify `key`; `untracked` is nil for an IP packet conntrack tracks, else the
        /// reason ct answers +trk+inv at once (non-IP frame, header malformed at IP or above).
        case table(key: MatchKey, untracked: InvalidReason?)
    }

    /// Counts a parsed frame; says whether it goes to the flow table.
    @inline(__always)
    func ingress(_ packet: ParsedPacket, outcome: ParseOutcome, frame: UnsafeRawBufferPointer,
                 record: PacketRecord) -> Ingress {
        core.tallies.packets &+= 1
        core.tallies.bytes &+= UInt64(record.wireLength)
        core.parseOutcomeCounts.increment(Int(outcome.rawValue))
        guard let key = MatchKey.of(packet, outcome: outcome, frame: frame, inPorts: policy.inPorts,
                                    interfaceID: record.interfaceID) else {
            var verdict = PacketVerdict()
            verdict.action = PacketAction.droppedBeforeTable
            count(verdict.action)
            return .done(verdict)
        }
        switch outcome {
        case .ok: return .table(key: key, untracked: nil)
        case .arp, .unsupportedEtherType, .unsupportedLinkType: return .table(key: key, untracked: .notIP)
        default: return .table(key: key, untracked: .malformedHeader)
        }
    }

    /// The key of a parked packet's frame again (it is an IP packet that parsed).
    @inline(__always)
    func key(of packet: ParsedPacket, record: PacketRecord) -> MatchKey {
        MatchKey(packet: packet, inPort: policy.inPorts.port(source: packet.key.src, interfaceID: record.interfaceID))
    }

    /// Runs a frame's key through the policy against this partition's own expectations.
    /// `hash`: the packet's flow hash in zone 0, when known.
    @inline(__always)
    func finishAlone(_ packet: ParsedPacket, key: MatchKey, untracked: InvalidReason?, frame: UnsafeRawBufferPointer,
                     index: Int, time: UInt64, hash: UInt64? = nil) -> PacketVerdict {
        var run = FlowRun()
        let result = classify(packet, key: key, untracked: untracked, frame: frame, index: index, time: time, hash: hash,
                              run: &run, recording: false, emit: { expectations.create($0, time: time) }) { key, hash, action in
            let verdict = partition.commitNew(packet, key: key, hash: hash, packetIndex: UInt64(index), time: time,
                                              action: action, expected: partition.localExpectation(for: key, time: time))
            if verdict.consumedExpectation { _ = expectations.consume(key, time: time) }
            return verdict
        }
        core.forgetClosedALGConnections(time: time) { dead in expectations.removeAll(ofMaster: dead.id) }
        expectations.expire(time: time)
        return finish(result, run.state)
    }

    /// Counts a finished packet (its last ct verdict, its action and fate) and gives its verdict.
    @inline(__always)
    func finish(_ result: PipelineResult, _ state: FlowCTState) -> PacketVerdict {
        var verdict = PacketVerdict()
        if let last = state.last {
            partition.count(last)
            verdict = PacketVerdict(last)
        }
        verdict.action = PacketAction(result)
        count(verdict.action)
        return verdict
    }

    @inline(__always)
    func count(_ action: PacketAction) {
        if action.isDrop { core.tallies.dropped &+= 1 } else { core.tallies.forwarded &+= 1 }
        actions.add(action)
    }
}

extension FlowPipeline: ReplayPipeline {
    /// One frame (parsed ahead by `core.forEachStaged`) start to finish against this
    /// partition's own expectations: the reference loop. (No TCP lane: `entryGuess` unused.)
    @inline(__always)
    public func process(_ packet: UnsafePointer<ParsedPacket>, outcome: ParseOutcome, hash: UInt64,
                        frame: UnsafeRawBufferPointer, record: PacketRecord, index: Int, time: UInt64,
                        entryGuess: Int) -> PacketVerdict {
        let packet = packet.pointee
        switch ingress(packet, outcome: outcome, frame: frame, record: record) {
        case .done(let verdict):
            return verdict
        case .table(let key, let untracked):
            return finishAlone(packet, key: key, untracked: untracked, frame: frame, index: index, time: time, hash: hash)
        }
    }
}
