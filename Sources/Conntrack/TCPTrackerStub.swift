// TEMPORARY stand-in until the real TCP tracker lands; deleted at merge.
import PacketParsing
public struct TCPTracker: Sendable {
    var a: UInt64 = 0
    public static func start(_ packet: ParsedPacket) -> TCPTracker? {
        packet.tcpFlags.contains([.syn, .ack]) ? nil : TCPTracker()
    }
    public mutating func update(_ packet: ParsedPacket, isReply: Bool) -> TCPUpdateResult { .valid }
    public var timeoutClass: TCPTimeoutClass { .established }
    public var dumpStateName: String { "ESTABLISHED" }
}
public enum TCPUpdateResult: Sendable, Equatable { case valid, invalid(TCPInvalidReason), reopen }
public enum TCPInvalidReason: UInt8, CaseIterable, Sendable { case flags }
public enum TCPTimeoutClass: UInt8, CaseIterable, Sendable { case firstPacket, opening, established, closing, finWait, closed }
