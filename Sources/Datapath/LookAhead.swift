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
/// are still processed one at a time in order. While the prefetches cannot pay (a table that
/// sits in the caches: `ConntrackPartition.lookAheadPays`), and where they were measured not to
/// (`LookAheadChooser`: connections open few at a time keep their entries in the caches), the
/// walk stages nothing: each packet is parsed at its turn into `scratch`, which saves the
/// ring's stores and copies.
///
/// The look-ahead outlives a call: a walk over one window of a sequence stages the first
/// packets of the next window too, and the next call over that sequence starts with them
/// staged (a shard's windows would otherwise each begin with an empty pipeline: `parseDistance`
/// packets parsed and looked up with nothing overlapping them).
public struct LookAhead: ~Copyable {
    /// Ring size (a power of two, above `parseDistance`): how far `stageAhead` may run ahead
    /// of the walk, at most.
    @usableFromInline static var depth: Int { 128 }
    @usableFromInline static var parseDistance: Int { 8 }
    @usableFromInline static var entryDistance: Int { 4 }
    /// How often (in items) a walk asks again whether prefetching slots and entries pays
    /// (`ConntrackPartition.lookAheadPays`) and which way to walk (`chooser`).
    @usableFromInline static var prefetchRecheck: Int { 256 }

    @usableFromInline let packets: UnsafeMutablePointer<ParsedPacket>
    /// Where the direct walk parses each packet at its turn (and hands it on by pointer). A
    /// `ParsedPacket` local of the walk instead measured 6% slower on the anchor trace (single
    /// partition; 4.5% with one shard) with the same instructions; why the stack slot cost more
    /// is not established (docs/PERFORMANCE.md, "Session 8").
    @usableFromInline let scratch: UnsafeMutablePointer<ParsedPacket>
    @usableFromInline let outcomes: UnsafeMutablePointer<ParseOutcome>
    @usableFromInline let hashes: UnsafeMutablePointer<UInt64>
    /// Each item's entry as the index named it when the item's entry was prefetched
    /// (`ConntrackPartition.prefetchEntry`), or -1; a hint for the TCP lane (`entryGuess`),
    /// which checks it. Stale for items walked directly (they are given -1).
    @usableFromInline let entryGuesses: UnsafeMutablePointer<Int>
    /// Items before this are staged (their ring slots hold them unless already visited), from
    /// `continuesAt` on: valid only for a walk that starts at `continuesAt`.
    @usableFromInline var stagedUpTo = 0
    /// Where the last walk stopped; a walk that starts elsewhere restarts the look-ahead.
    @usableFromInline var continuesAt = -1
    /// Which way a walk over a large table goes: through the ring or directly (measured).
    @usableFromInline var chooser = LookAheadChooser()
    /// Packets walked each way so far (through the ring, and directly).
    @usableFromInline var ringPackets: UInt64 = 0
    @usableFromInline var directPackets: UInt64 = 0

    public init() {
        packets = .allocate(capacity: LookAhead.depth)
        packets.initialize(repeating: ParsedPacket(), count: LookAhead.depth)
        scratch = .allocate(capacity: 1)
        scratch.initialize(to: ParsedPacket())
        outcomes = .allocate(capacity: LookAhead.depth)
        outcomes.initialize(repeating: .ok, count: LookAhead.depth)
        hashes = .allocate(capacity: LookAhead.depth)
        hashes.initialize(repeating: 0, count: LookAhead.depth)
        entryGuesses = .allocate(capacity: LookAhead.depth)
        entryGuesses.initialize(repeating: -1, count: LookAhead.depth)
    }

    deinit {
        packets.deallocate()
        scratch.deallocate()
        outcomes.deallocate()
        hashes.deallocate()
        entryGuesses.deallocate()
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
    /// of its turn), `body(k, packet, outcome, hash, entryGuess)` processes it. `hash` is the
    /// flow hash of the packet's key in zone 0 (0 when the parse failed). `packet` points into
    /// the look-ahead's own memory and is valid only during the call: a callee that takes it by
    /// pointer reads it in place (a `ParsedPacket` passed by value is copied first).
    /// `entryGuess` is the entry the index named for the item when the ring prefetched it, or
    /// -1: for the TCP lane (`ConntrackPartition.trackTCPSegment`), which checks it.
    @inlinable @inline(__always)
    public func forEachStaged(count: Int, frame: (Int) -> StagedFrame,
                              _ body: (Int, UnsafePointer<ParsedPacket>, ParseOutcome, UInt64, Int) -> Void) {
        forEachStaged(0..<count, of: count, frame: frame, body)
    }

    /// Visits items `range` of a sequence of `total` items, in order, staging ahead across the
    /// range's end (up to `total`): a following call for the next range of the same sequence
    /// finds its first items already parsed and their entries on the way. `frame` and `body`
    /// take the item's index in the sequence. Between two such calls the partition may change
    /// (phase 2 of the sharded datapath): the prefetches were hints, the parse results and
    /// hashes stay exact.
    @inlinable @inline(__always)
    public func forEachStaged(_ range: Range<Int>, of total: Int, frame: (Int) -> StagedFrame,
                              _ body: (Int, UnsafePointer<ParsedPacket>, ParseOutcome, UInt64, Int) -> Void) {
        let mask = LookAhead.depth - 1
        let packets = lookAhead.packets, outcomes = lookAhead.outcomes, hashes = lookAhead.hashes
        let entryGuesses = lookAhead.entryGuesses
        let lead = LookAhead.parseDistance, entryLead = LookAhead.entryDistance
        var staged = lookAhead.continuesAt == range.lowerBound ? lookAhead.stagedUpTo : range.lowerBound
        @inline(__always) func stage(upTo limit: Int) {
            while staged < limit {
                stageItem(staged, frame(staged))
                staged &+= 1  // below `limit`: no overflow (here and below, indices below `total`)
            }
        }
        var k = range.lowerBound
        while k < range.upperBound {
            // The way for the next stretch (at most `prefetchRecheck` items, then asked again as
            // the table grows or shrinks): directly while the table is too small for prefetches
            // to pay; through the ring where the configuration always wants them; else the way
            // `chooser` measured faster, or the one it is probing.
            let ring: Bool, stretch: Int, timed: Bool, chosen: Bool
            if !partition.lookAheadPays {
                (ring, stretch, timed, chosen) = (false, LookAhead.prefetchRecheck, false, false)
            } else if partition.lookAheadAlwaysPays {
                (ring, stretch, timed, chosen) = (true, LookAhead.prefetchRecheck, false, false)
            } else {
                (ring, stretch, timed) = lookAhead.chooser.next
                chosen = true
            }
            let stretchStart = k, stretchEnd = Swift.min(range.upperBound, k + Swift.min(stretch, LookAhead.prefetchRecheck))
            let started = timed ? LatencyRecorder.now() : 0
            if ring && staged <= k {
                // A cold start: the first items' slots and entries get what time there is.
                stage(upTo: Swift.min(k + lead, total))
                for early in k..<staged where outcomes[early & mask] == .ok {
                    partition.prefetchSlot(hash: hashes[early & mask])
                }
                for soon in k..<Swift.min(k + entryLead, staged) {
                    let slot = soon & mask
                    entryGuesses[slot] = outcomes[slot] == .ok ? partition.prefetchEntry(hash: hashes[slot]) : -1
                }
            }
            while k < stretchEnd {
                if !ring && k >= staged {
                    // Directly, with nothing staged: each item parsed at its turn into `scratch`
                    // instead of through the ring (the ring's stores and copies cost the anchor
                    // trace 7%).
                    let packet = lookAhead.scratch
                    while k < stretchEnd {
                        let item = frame(k)
                        let outcome = PacketParser(linkType: item.linkType)
                            .parse(item.bytes, wireLength: item.wireLength, into: &packet.pointee)
                        body(k, UnsafePointer(packet), outcome, outcome == .ok ? partition.hash(packet.pointee.key) : 0, -1)
                        k &+= 1
                    }
                    staged = k
                    break
                }
                if ring {
                    // The slot is prefetched `lead` items ahead, whether the item was staged just
                    // now or earlier (`stageAhead`, or the previous walk), and the entry
                    // `entryLead` ahead, in one call, without a branch: an item that failed to
                    // parse has hash 0, and near the sequence's end the ring holds older items;
                    // their prefetches are wasted, never wrong (hints).
                    stage(upTo: Swift.min(k &+ lead &+ 1, total))
                    entryGuesses[(k &+ entryLead) & mask] = partition.prefetch(slotFor: hashes[(k &+ lead) & mask],
                                                                               entryFor: hashes[(k &+ entryLead) & mask])
                }
                // Through the ring: staged ahead, or (walking directly) staged before the switch
                // (whose guess is stale: checked, and wrong at worst).
                let slot = k & mask
                body(k, UnsafePointer(packets + slot), outcomes[slot], hashes[slot], ring ? entryGuesses[slot] : -1)
                k &+= 1
            }
            if chosen {
                lookAhead.chooser.record(ring: ring, count: k - stretchStart,
                                         nanos: timed ? LatencyRecorder.now() &- started : 0)
            }
            if ring { lookAhead.ringPackets &+= UInt64(k - stretchStart) } else { lookAhead.directPackets &+= UInt64(k - stretchStart) }
        }
        lookAhead.stagedUpTo = staged
        lookAhead.continuesAt = range.upperBound
    }

    /// Stages up to `chunk` more items of the sequence the last walk (`forEachStaged(_:of:)`)
    /// stopped in, beyond its usual lead, while the ring has room: work for a worker that
    /// would otherwise wait (the window barrier). False when nothing was left to stage.
    @inlinable
    public func stageAhead(of total: Int, chunk: Int, frame: (Int) -> StagedFrame) -> Bool {
        let next = lookAhead.continuesAt
        guard next >= 0 else { return false }
        var staged = lookAhead.stagedUpTo
        let limit = Swift.min(total, next + LookAhead.depth - 1, staged + chunk)
        guard staged < limit else { return false }
        while staged < limit {
            stageItem(staged, frame(staged))
            staged += 1
        }
        lookAhead.stagedUpTo = staged
        return true
    }

    /// Parses item `index` into its ring slot, with its outcome and flow hash (0 if not `.ok`).
    @inlinable @inline(__always)
    func stageItem(_ index: Int, _ item: StagedFrame) {
        let slot = index & (LookAhead.depth - 1)
        let outcome = PacketParser(linkType: item.linkType)
            .parse(item.bytes, wireLength: item.wireLength, into: &lookAhead.packets[slot])
        lookAhead.outcomes[slot] = outcome
        lookAhead.hashes[slot] = outcome == .ok ? partition.hash(lookAhead.packets[slot].key) : 0
    }
}
