import PacketParsing

/// What the pipeline saw besides conntrack's own counters: parse outcomes and final fates.
public struct PipelineCounters: Sendable, Equatable {
    /// Packets per parse outcome (indexed by `ParseOutcome.rawValue`).
    public var parseOutcomes = [UInt64](repeating: 0, count: ParseOutcome.allCases.count)
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    /// Packets forwarded (new, established, related, or not IP) and dropped (+inv, refused by a
    /// full table, or malformed below IP).
    public var forwarded: UInt64 = 0
    public var dropped: UInt64 = 0

    public init() {}

    public mutating func merge(_ o: PipelineCounters) {
        for i in parseOutcomes.indices { parseOutcomes[i] += o.parseOutcomes[i] }
        packets += o.packets
        bytes += o.bytes
        forwarded += o.forwarded
        dropped += o.dropped
    }

    /// Packets the parser found malformed.
    public var malformed: UInt64 {
        ParseOutcome.allCases.filter(\.isMalformed).reduce(0) { $0 + parseOutcomes[Int($1.rawValue)] }
    }
}
