import Conntrack

/// The answer for one packet, as a verdict file prints it: ct_state, zone, connection id,
/// master id (and, with a flow table, the final action). Ids are trace indices, so the same
/// trace gives the same verdicts whatever the sharding.
public struct PacketVerdict: Sendable, Equatable {
    /// Empty when the packet never went through conntrack.
    public var state: CTState
    public var zone: UInt16
    public var connectionID: UInt64
    public var masterID: UInt64
    /// The final action under a flow table (`.none` in the default pipeline).
    public var action = PacketAction()

    @inlinable
    public init(state: CTState = [], zone: UInt16 = 0, connectionID: UInt64 = Connection.noID,
                masterID: UInt64 = Connection.noID) {
        self.state = state
        self.zone = zone
        self.connectionID = connectionID
        self.masterID = masterID
    }

    @inlinable
    public init(_ verdict: CTVerdict) {
        self.init(state: verdict.state, zone: verdict.zone, connectionID: verdict.connectionID,
                  masterID: verdict.masterID)
    }

    /// One tab-separated verdict-file line: index, ct_state, zone, conn, master, action.
    public func line(index: Int) -> String {
        let connection = connectionID == Connection.noID ? "-" : String(connectionID)
        let master = masterID == Connection.noID ? "-" : String(masterID)
        return "\(index)\t\(state)\t\(zone)\t\(connection)\t\(master)\t\(action)"
    }
}
