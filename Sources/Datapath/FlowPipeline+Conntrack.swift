import Conntrack
import FlowTable
import PacketParsing

/// What one packet's ct calls have done so far (carried from phase 1 to phase 2 with it).
struct FlowCTState {
    /// The last call's verdict: the packet's ct columns (nil: no ct call).
    var last: CTVerdict?
    /// `precheck` ran (once per packet: it moves the clock and counts bad checksums), and the
    /// +inv verdict it gave, which every call of this packet then answers in its own zone.
    var prechecked = false
    var precheckVerdict: CTVerdict?
    /// The connection whose ALG has seen this packet (`Connection.noID`: none yet) and whether
    /// it refused it: later calls on that connection answer +inv too, without a second look.
    var inspected = Connection.noID
    var refusedByALG = false
}

/// One classifier run of a packet, and what a rerun of it replays.
struct FlowRun {
    var state = FlowCTState()
    /// Verdicts of the packet's first calls, already made: a rerun answers them from here
    /// (the classifier is deterministic given the key and the verdicts, so it makes the same
    /// calls again), and records its new calls after them when asked to.
    var known: [CTVerdict] = []
    /// The call that could not be answered (a miss that needs what phase 2 knows), if any.
    var abortedAt: Int?
}

extension FlowPipeline {
    /// What a call answers once its run is aborted: the pipeline goes on to its end (its
    /// result is thrown away), so this only needs to be harmless.
    static let abandoned = CTVerdict.invalid(.malformedHeader, zone: 0)

    /// Runs the classifier on `key`: every `ct` call is answered from `run.known`, then by
    /// `conntrack` (appended to `run.known` when `recording`). When `miss` declines a call
    /// (returns nil), the run is aborted there: `run.abortedAt` is set and the result is void.
    @inline(__always)
    func classify(_ packet: ParsedPacket, key: MatchKey, untracked: InvalidReason?, frame: UnsafeRawBufferPointer,
                  index: Int, time: UInt64, hash: UInt64?, run: inout FlowRun, recording: Bool, emit: (Expectation) -> Void,
                  miss: (FlowKey, UInt64, CTAction) -> CTVerdict?) -> PipelineResult {
        var call = 0
        run.abortedAt = nil
        return policy.classifier.run(key: key) { spec in
            defer { call += 1 }
            if run.abortedAt != nil { return FlowPipeline.abandoned }
            if call < run.known.count {
                run.state.last = run.known[call]
                return run.known[call]
            }
            guard let verdict = conntrack(spec, packet, untracked: untracked, frame: frame, index: index, time: time,
                                          hash: hash, state: &run.state, emit: emit, miss: miss) else {
                run.abortedAt = call
                return FlowPipeline.abandoned
            }
            run.state.last = verdict
            if recording { run.known.append(verdict) }
            return verdict
        }
    }

    /// One `ct` action on this partition: precheck (first call only), the existing connection,
    /// or `miss` (commit, or nil to give up); then the ALG, once per connection. `zoneZeroHash`:
    /// the packet's flow hash in zone 0, when known (the look-ahead computed it).
    @inline(__always)
    func conntrack(_ spec: CTSpec, _ packet: ParsedPacket, untracked: InvalidReason?, frame: UnsafeRawBufferPointer,
                   index: Int, time: UInt64, hash zoneZeroHash: UInt64?, state: inout FlowCTState, emit: (Expectation) -> Void,
                   miss: (FlowKey, UInt64, CTAction) -> CTVerdict?) -> CTVerdict? {
        var action = spec.conntrackAction
        if !core.algsEnabled { action.alg = .none }
        if let untracked { return .invalid(untracked, zone: action.zone) }
        if !state.prechecked {
            state.prechecked = true
            state.precheckVerdict = partition.precheck(packet, frame: frame, zone: action.zone, time: time)
        }
        if var verdict = state.precheckVerdict {
            verdict.zone = action.zone
            return verdict
        }
        var key = packet.key
        key.zone = action.zone
        let hash = action.zone == 0 ? zoneZeroHash ?? partition.hash(key) : partition.hash(key)
        guard var verdict = partition.lookupExisting(packet, key: key, frame: frame, hash: hash, time: time, action: action)
                ?? miss(key, hash, action) else { return nil }
        if verdict.alg != .none && !verdict.state.contains(.invalid) {
            if verdict.connectionID == state.inspected {
                if state.refusedByALG { partition.markRefusedByALG(&verdict) }
            } else {
                state.inspected = verdict.connectionID
                core.inspectALG(&verdict, packet, frame: frame, index: index, time: time, emit: emit)
                state.refusedByALG = verdict.state.contains(.invalid)
            }
        }
        return verdict
    }
}
