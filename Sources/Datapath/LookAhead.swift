import Conntrack
import CPrefetch
import PacketParsing

/// The look-ahead of a replay loop: each frame is parsed and hashed `parseDistance` packets
/// before its conntrack step, its index slot prefetched then, and the connection entry that
/// slot names prefetched `entryDistance` packets before its turn. With a table far larger than
/// the caches, the two dependent memory reads of a look-up (slot, then entry) overlap with the
/// work on the packets in between instead of stalling one after the other.
///
/// Parsing is stateless, so parsing ahead changes nothing; the prefetches are hints. Packets
/// are still processed one at a time in order.
public struct LookAhead: ~Copyable {
    /// Ring size (a power of two, above `parseDistance`).
    @usableFromInline static var depth: Int { 16 }
    @usableFromInline static var parseDistance: Int { 8 }
    @usableFromInline static var entryDistance: Int { 4 }

    @usableFromInline let packets: UnsafeMutablePointer<ParsedPacket>
    @usableFromInline let outcomes: UnsafeMutablePointer<ParseOutcome>
    @usableFromInline let hashes: UnsafeMutablePointer<UInt64>

    public init() {
        packets = .allocate(capacity: LookAhead.depth)
        packets.initialize(repeating: ParsedPacket(), count: LookAhead.depth)
        outcomes = .allocate(capacity: LookAhead.depth)
        outcomes.initialize(repeating: .ok, count: LookAhead.depth)
        hashes = .allocate(capacity: LookAhead.depth)
        hashes.initialize(repeating: 0, count: LookAhead.depth)
    }

    deinit {
        packets.deallocate()
        outcomes.deallocate()
        hashes.deallocate()
    }
}

/// A frame to stage: its captured bytes, wire length and link type.
public struct StagedFrame {
    public var bytes: UnsafeRawBufferPointer
    public var wireLength: Int
    public var linkType: LinkType

    @inlinable
    public init(bytes: UnsafeRawBufferPointer, wireLength: Int, linkType: LinkType) {
        self.bytes = bytes
        self.wireLength = wireLength
        self.linkType = linkType
    }
}

extension DefaultPipeline {
    /// Visits items `0..<count` in order; `frame(k)` gives item k's frame (asked once, ahead
    /// of its turn), `body(k, packet, outcome, hash)` processes it. `hash` is the flow hash of
    /// the packet's key in zone 0 (0 when the parse failed).
    @inlinable @inline(__always)
    public func forEachStaged(count: Int, frame: (Int) -> StagedFrame,
                       _ body: (Int, ParsedPacket, ParseOutcome, UInt64) -> Void) {
        let mask = LookAhead.depth - 1
        let packets = lookAhead.packets, outcomes = lookAhead.outcomes, hashes = lookAhead.hashes
        let lead = LookAhead.parseDistance, entryLead = LookAhead.entryDistance
        var k = -lead
        while k < count {
            let ahead = k + lead
            if ahead < count {
                let staged = frame(ahead)
                let slot = ahead & mask
                let outcome = PacketParser(linkType: staged.linkType)
                    .parse(staged.bytes, wireLength: staged.wireLength, into: &packets[slot])
                outcomes[slot] = outcome
                if outcome == .ok {
                    let hash = partition.hash(packets[slot].key)
                    hashes[slot] = hash
                    partition.prefetchSlot(hash: hash)
                } else {
                    hashes[slot] = 0
                }
            }
            let soon = k + entryLead
            if soon >= 0 && soon < count && outcomes[soon & mask] == .ok {
                partition.prefetchEntry(hash: hashes[soon & mask])
            }
            if k >= 0 {
                let slot = k & mask
                body(k, packets[slot], outcomes[slot], hashes[slot])
            }
            k += 1
        }
    }
}
