import PacketParsing
import TraceIO

/// What `TraceReplay` runs each frame through, start to finish against one partition: the
/// default pipeline or a flow table (`FlowPipeline`). Replay loops are generic over it, so each
/// is specialised for its pipeline (no dynamic dispatch per packet).
public protocol ReplayPipeline: AnyObject {
    /// The partition's owner, whose look-ahead (`forEachStaged`) parses the frames ahead.
    var core: DefaultPipeline { get }
    /// One frame's verdict: `packet` (the look-ahead's, valid during the call), `outcome` and
    /// `hash` (zone 0) as the look-ahead staged them; `index` is its global packet index,
    /// `time` its trace time (ns); `entryGuess` the look-ahead's guess of its connection's
    /// entry (`forEachStaged`), or -1.
    func process(_ packet: UnsafePointer<ParsedPacket>, outcome: ParseOutcome, hash: UInt64,
                 frame: UnsafeRawBufferPointer, record: PacketRecord, index: Int, time: UInt64,
                 entryGuess: Int) -> PacketVerdict
}

extension DefaultPipeline: ReplayPipeline {
    public var core: DefaultPipeline { self }

    @inlinable @inline(__always)
    public func process(_ packet: UnsafePointer<ParsedPacket>, outcome: ParseOutcome, hash: UInt64,
                        frame: UnsafeRawBufferPointer, record: PacketRecord, index: Int, time: UInt64,
                        entryGuess: Int) -> PacketVerdict {
        process(packet, outcome: outcome, hash: hash, frame: frame, wireLength: Int(record.wireLength), index: index,
                time: time, entryGuess: entryGuess)
    }
}
