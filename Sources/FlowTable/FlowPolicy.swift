import Conntrack

/// What `ctbench --flows` runs in every shard: the classifier built from a flow file and the
/// in_port map of the trace. Immutable and shared by every shard (read-only arrays).
public struct FlowPolicy: Sendable {
    public let classifier: Classifier
    public let inPorts: InPortMap
    /// Some `ct` action asks for an ALG: without one, no connection can have an ALG, so no
    /// packet can announce an expectation (the sharded datapath uses this to finish misses early).
    public let hasALG: Bool

    public init(flows: [Flow], inPorts: InPortMap = InPortMap()) {
        classifier = Classifier(flows)
        self.inPorts = inPorts
        hasALG = flows.contains { flow in
            flow.actions.contains { if case .ct(let spec) = $0 { spec.alg != .none } else { false } }
        }
    }

    /// Parses a flow file's text (see `FlowParser`).
    public init(text: String, inPorts: InPortMap = InPortMap()) throws(FlowTableError) {
        self.init(flows: try FlowParser.parse(text), inPorts: inPorts)
    }
}
