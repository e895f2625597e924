/// The ct_state flags of one packet after conntrack, with Open vSwitch's bit values
/// (`CS_NEW` 0x01 ... `CS_DST_NAT` 0x80), so they can be matched like `ct_state=+trk+est`.
public struct CTState: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    @inlinable public static var new: CTState { CTState(rawValue: 0x01) }
    @inlinable public static var established: CTState { CTState(rawValue: 0x02) }
    @inlinable public static var related: CTState { CTState(rawValue: 0x04) }
    @inlinable public static var reply: CTState { CTState(rawValue: 0x08) }
    @inlinable public static var invalid: CTState { CTState(rawValue: 0x10) }
    @inlinable public static var tracked: CTState { CTState(rawValue: 0x20) }
    @inlinable public static var srcNAT: CTState { CTState(rawValue: 0x40) }
    @inlinable public static var dstNAT: CTState { CTState(rawValue: 0x80) }

    /// Flags in the order the verdict files print them, with their OVS names.
    public static let printOrder: [(CTState, String)] = [
        (.tracked, "trk"), (.new, "new"), (.established, "est"), (.related, "rel"),
        (.reply, "rpl"), (.invalid, "inv"), (.srcNAT, "snat"), (.dstNAT, "dnat"),
    ]
}

extension CTState: CustomStringConvertible {
    /// Set flags only, e.g. `+trk+new+rel`; `-` when no flag is set (never went through ct).
    public var description: String {
        if isEmpty { return "-" }
        var text = ""
        for (flag, name) in CTState.printOrder where contains(flag) {
            text += "+" + name
        }
        return text
    }

    /// OVS's own `ct_state` rendering, `est|rpl|trk`, in its flag order (new est rel rpl inv trk
    /// snat dnat), as its README and `ovs-appctl` counts show.
    public var ovsDescription: String {
        let order: [(CTState, String)] = [
            (.new, "new"), (.established, "est"), (.related, "rel"), (.reply, "rpl"),
            (.invalid, "inv"), (.tracked, "trk"), (.srcNAT, "snat"), (.dstNAT, "dnat"),
        ]
        return order.filter { contains($0.0) }.map(\.1).joined(separator: "|")
    }
}
