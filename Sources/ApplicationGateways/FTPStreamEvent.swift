/// What `FTPLineAssembler.feed` did with one TCP segment.
public struct FTPStreamEvent: Equatable, Sendable {
    /// Where the segment lay relative to the next expected sequence number.
    public enum Position: UInt8, Sendable {
        /// No payload: nothing changed.
        case empty
        /// It started at the expected sequence number (or was the first segment).
        case inOrder
        /// It started before the expected sequence number and ended after it: the bytes already
        /// seen were dropped and the rest was taken.
        case overlap
        /// It ended at or before the expected sequence number: ignored.
        case retransmission
        /// It started after the expected sequence number: bytes are missing. The partial line
        /// was dropped and the assembler resynchronises (see `FTPLineAssembler`).
        case gap
    }

    public var position: Position
    /// Complete lines handed to the closure.
    public var lines: Int
    /// Lines found longer than the limit, each counted once (in the segment where it went over).
    public var overlongLines: Int
    /// New bytes that were not parsed: the rest of an overlong line, or bytes skipped while
    /// resynchronising after a gap.
    public var skippedBytes: Int
    /// Bytes dropped because they had been seen before.
    public var duplicateBytes: Int

    public init(position: Position, lines: Int = 0, overlongLines: Int = 0, skippedBytes: Int = 0, duplicateBytes: Int = 0) {
        self.position = position
        self.lines = lines
        self.overlongLines = overlongLines
        self.skippedBytes = skippedBytes
        self.duplicateBytes = duplicateBytes
    }
}
