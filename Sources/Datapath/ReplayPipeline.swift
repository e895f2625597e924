import PacketParsing
import TraceIO

/// What `TraceReplay` runs each frame through, start to finish against one partition: the
/// default pipeline or a flow table (`FlowPipeline`). Replay loops are generic over it, so each
/// is specialised for its pipeline (no dynamic dispatch per packet).
public protocol ReplayPipeline: AnyObject {
    /// One frame's verdict; `index` is its global packet index, `time` its trace time (ns).
    func process(_ frame: UnsafeRawBufferPointer, record: PacketRecord, index: Int, time: UInt64) -> PacketVerdict
}

extension DefaultPipeline: ReplayPipeline {
    @inlinable
    public func process(_ frame: UnsafeRawBufferPointer, record: PacketRecord, index: Int, time: UInt64) -> PacketVerdict {
        process(frame, wireLength: Int(record.wireLength), linkType: record.linkType, index: index, time: time)
    }
}
