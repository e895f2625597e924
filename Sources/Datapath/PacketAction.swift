import FlowTable

/// A packet's final action under a flow table, in 18 bytes (no references, so a verdict stays a
/// plain value): up to eight output ports in execution order, `normal`, or a drop. The default
/// pipeline leaves it `.none` (`-` in verdict files).
///
/// Text (verdict files, JSON `actions` keys): `-` (no flow table), `drop`, `normal`,
/// `output:1`, `output:1,2` (ports in execution order, repeats kept), `output:1,normal` (ports
/// and `normal`); more than eight outputs list the first eight and then `...`.
public struct PacketAction: Hashable, Sendable, CustomStringConvertible {
    /// Ports 0...3 and 4...7, 16 bits each (flow files allow ports up to 0xFEFF).
    @usableFromInline var portsLow: UInt64 = 0
    @usableFromInline var portsHigh: UInt64 = 0
    @usableFromInline var portCount: UInt8 = 0
    @usableFromInline var flags: UInt8 = 0

    @usableFromInline static let decided: UInt8 = 1
    @usableFromInline static let normalFlag: UInt8 = 2
    @usableFromInline static let overflowFlag: UInt8 = 4

    /// No flow table ran (the default pipeline).
    public static let none = PacketAction()

    @inlinable public init() {}

    /// The action a pipeline run decided. A run stopped by a resubmit or recirculation limit
    /// drops the packet (OVS drops a packet whose translation fails).
    @inlinable
    public init(_ result: PipelineResult) {
        flags = PacketAction.decided
        guard !result.limitHit else { return }
        if result.normal { flags |= PacketAction.normalFlag }
        if result.outputs.overflowed { flags |= PacketAction.overflowFlag }
        let count = result.outputs.count
        portCount = UInt8(truncatingIfNeeded: count)
        for i in 0..<count {
            let port = UInt64(truncatingIfNeeded: result.outputs[i]) & 0xFFFF
            if i < 4 { portsLow |= port << UInt64(16 * i) } else { portsHigh |= port << UInt64(16 * (i - 4)) }
        }
    }

    /// A drop decided by the datapath before the flow table (a frame without an ethertype).
    public static let droppedBeforeTable: PacketAction = {
        var action = PacketAction()
        action.flags = PacketAction.decided
        return action
    }()

    /// The packet was sent nowhere.
    @inlinable public var isDrop: Bool { portCount == 0 && flags & PacketAction.normalFlag == 0 }

    /// Output ports, in execution order (at most eight).
    public var ports: [Int] {
        (0..<Int(portCount)).map { i in
            Int(truncatingIfNeeded: ((i < 4 ? portsLow : portsHigh) >> UInt64(16 * (i % 4))) & 0xFFFF)
        }
    }

    public var description: String {
        if flags & PacketAction.decided == 0 { return "-" }
        if isDrop { return "drop" }
        var parts: [String] = []
        if portCount > 0 {
            parts.append("output:" + ports.map(String.init).joined(separator: ",")
                         + (flags & PacketAction.overflowFlag != 0 ? ",..." : ""))
        }
        if flags & PacketAction.normalFlag != 0 { parts.append("normal") }
        return parts.joined(separator: ",")
    }
}
