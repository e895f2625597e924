import Conntrack
import PacketParsing

/// A packet that may announce an expectation, as the dispatch pass lists it (before the
/// clock): its trace position and a hash of its unordered address pair. Every expectation an
/// ALG creates joins the two addresses of its control connection (FTP refuses any other
/// address; TFTP answers the requester), so a new connection can only be related to an
/// announcement made between its own two addresses.
public struct Announcer: Sendable, Equatable {
    public var position: Int32
    public var pair: UInt32

    public init(position: Int32, key: FlowKey) {
        self.position = position
        pair = Announcer.pairHash(key)
    }

    /// A hash of the unordered address pair (ports, protocol and zone left out).
    @inline(__always)
    public static func pairHash(_ key: FlowKey) -> UInt32 {
        let (a, b) = key.src < key.dst ? (key.src, key.dst) : (key.dst, key.src)
        var h = a.high &* 0x9E37_79B9_7F4A_7C15 ^ a.low
        h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9 ^ b.high
        h = (h ^ (h >> 31)) &* 0x94D0_49BB_1331_11EB ^ b.low
        h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return UInt32(truncatingIfNeeded: h >> 32)
    }
}

/// What phase 1 may decide about a new connection without waiting for phase 2: whether it
/// cannot be related to any expectation, so that it can be committed at once.
///
/// Sound because expectation tables change only in phase 2 (announcements and master deaths of
/// phase 1 are deferred), which ends at a barrier: during phase 1 every table holds exactly
/// the expectations announced before the window, and any shard may read any table (reads only,
/// no writer runs). A new connection at position p cannot be related when its owner's table
/// has no live expectation for it and no packet of the window before p that may announce one
/// joins the same two addresses. A hash collision of address pairs only parks a packet that
/// did not need it.
///
/// A plain value (two buffer pointers, no reference counts): phase 1 hands it to every packet
/// that misses the TCP lane. Holding the arrays themselves, each copy retained and released
/// their buffers, which both workers share (~0.6% of their samples on the anchor trace); and
/// the tables are held unretained, since a retain of another shard's table, at every packet
/// that asked it, wrote to a line its own worker reads. The storage belongs to the
/// `WindowLoop`, which outlives every check it makes, and its shards own the tables.
struct RelatednessCheck {
    /// Every shard's expectation table, by shard id.
    let tables: UnsafeBufferPointer<Unmanaged<ExpectationTable>>
    let routing: ShardRouting
    /// The window's announcers, ascending.
    let announcers: UnsafeBufferPointer<Announcer>
    /// No table holds any expectation.
    let noneLive: Bool

    /// True when a new connection with `key` (its zone set), first seen at trace position
    /// `position` and time `time`, cannot be related.
    @inline(__always)
    func cannotBeRelated(_ key: FlowKey, position: Int, time: UInt64) -> Bool {
        noAnnouncerBefore(position, sharingAddressesWith: key)
            && (noneLive || tables[routing.owner(of: ExpectationKey(firstPacketOf: key))]._withUnsafeGuaranteedRef {
                $0.peek(key, time: time) == nil
            })
    }

    /// True when no announcer of the window before `position` joins `key`'s two addresses.
    @inline(__always)
    func noAnnouncerBefore(_ position: Int, sharingAddressesWith key: FlowKey) -> Bool {
        guard let first = announcers.first, Int(first.position) < position else { return true }
        let pair = Announcer.pairHash(key)
        for announcer in announcers {
            if Int(announcer.position) >= position { break }
            if announcer.pair == pair { return false }
        }
        return true
    }
}
