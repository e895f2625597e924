/// Turns one direction's TCP payload into complete FTP control lines, across segment
/// boundaries. One value per direction of a control connection; keep it stored in place (a
/// copy that is then mutated would copy its buffer).
///
/// Lines end at LF; a CR just before the LF is stripped. A line that lies wholly inside one
/// segment is handed to the closure straight from the payload, without copying. Only a partial
/// line at the end of a segment is buffered, in an array whose capacity
/// (`maximumLineLength + 1`, the +1 for a CR whose LF has not arrived) is reserved once, the
/// first time it is needed, and never grows.
///
/// A line longer than `maximumLineLength` (without its CR) is not delivered: its bytes are
/// skipped up to the next LF and the line after it parses normally. It is counted once in
/// `FTPStreamEvent.overlongLines` when it starts like an announcement for this direction
/// (`announcing`: `PORT` / `EPRT` from a client, `227` / `229` from a server; `nil` counts
/// every overlong line): an overlong line of any other kind is of no interest to the helper.
///
/// Sequence numbers: the first segment with payload sets the next expected sequence number
/// (the caller passes the sequence number of the first payload byte, so a SYN's extra 1 is
/// already accounted for). Comparisons use the signed 32-bit difference, so they hold across
/// the 2^32 wrap as long as segments are within 2 GiB of each other, as TCP guarantees:
/// - a segment that ends at or before the expected number is a retransmission: ignored;
/// - one that starts before and ends after it is trimmed to its new bytes;
/// - one that starts after it leaves a gap (a lost or reordered segment).
///
/// Resynchronisation rule after a gap: the partial line buffered before the gap is dropped
/// (its middle is missing), and every byte of the gap segment up to and including its first
/// LF is skipped, since nothing says where the line it belongs to started. Parsing resumes at
/// the byte after that LF, in the same segment or in a later one; until an LF is seen every
/// in-order byte is skipped. The expected sequence number moves to the gap segment's end, so
/// the missing bytes, if they arrive late, are ignored as a retransmission. A one-line gap
/// segment (the common case) is therefore never parsed, and no line that straddles missing
/// bytes is ever delivered.
public struct FTPLineAssembler: Sendable {
    private enum Mode: UInt8, Sendable {
        /// At a line start or inside a line whose beginning is in `buffer`.
        case normal
        /// Inside a line already reported too long: skip to the next LF.
        case discardingOverlong
        /// After a gap: skip to the next LF.
        case resynchronising
    }

    /// The longest line delivered, in bytes without CR and LF.
    public let maximumLineLength: Int
    private var expectedSequence: UInt32 = 0
    private var started = false
    private var mode: Mode = .normal
    /// The start of the current line, when it began in an earlier segment.
    private var buffer: [UInt8] = []
    /// Which overlong lines count: those that may announce from the client (`true`) or from the
    /// server (`false`); all of them when nil.
    public let announcingFromClient: Bool?

    public init(maximumLineLength: Int = FTPMessageParser.defaultMaximumLineLength, announcingFromClient: Bool? = nil) {
        precondition(maximumLineLength > 0, "maximumLineLength must be positive")
        self.maximumLineLength = maximumLineLength
        self.announcingFromClient = announcingFromClient
    }

    /// Bytes of a partial line held now (at most `maximumLineLength + 1`).
    public var bufferedByteCount: Int { buffer.count }
    /// The buffer's capacity: 0 until a line first spans two segments, then fixed.
    public var bufferCapacity: Int { buffer.capacity }
    /// The sequence number of the next byte expected, once a segment has been seen.
    public var nextExpectedSequence: UInt32? { started ? expectedSequence : nil }

    /// Takes one segment's payload, whose first byte has sequence number `seq`, and calls
    /// `onLine` with each complete line (without CR LF) it finishes. The pointer given to
    /// `onLine` is valid only during the call.
    public mutating func feed(
        seq: UInt32, payload: UnsafeRawBufferPointer, _ onLine: (UnsafeRawBufferPointer) -> Void
    ) -> FTPStreamEvent {
        let length = payload.count
        if length == 0 { return FTPStreamEvent(position: .empty) }
        var event = FTPStreamEvent(position: .inOrder)
        var start = 0
        if !started {
            started = true
            expectedSequence = seq
        } else {
            // Signed distance from the expected number to this segment's start, modulo 2^32.
            let offset = Int32(bitPattern: seq &- expectedSequence)
            if offset < 0 {
                let seen = -Int(offset)  // bytes of this segment already taken
                if seen >= length {
                    return FTPStreamEvent(position: .retransmission, duplicateBytes: length)
                }
                start = seen
                event.position = .overlap
                event.duplicateBytes = seen
            } else if offset > 0 {
                event.position = .gap
                buffer.removeAll(keepingCapacity: true)
                mode = .resynchronising
            }
        }
        // The next byte expected follows this segment (wrapping add).
        expectedSequence = seq &+ UInt32(truncatingIfNeeded: length)
        consume(payload, from: start, event: &event, onLine)
        return event
    }

    /// Array convenience for tests and tools.
    public mutating func feed(seq: UInt32, payload: [UInt8], _ onLine: (UnsafeRawBufferPointer) -> Void) -> FTPStreamEvent {
        payload.withUnsafeBytes { feed(seq: seq, payload: $0, onLine) }
    }

    /// Drops any partial line and forgets the sequence state, as for a new connection.
    public mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        mode = .normal
        started = false
        expectedSequence = 0
    }

    private mutating func consume(
        _ p: UnsafeRawBufferPointer, from start: Int, event: inout FTPStreamEvent,
        _ onLine: (UnsafeRawBufferPointer) -> Void
    ) {
        let end = p.count
        var i = start
        while i < end {
            let lineFeed = p.firstIndex(of: ASCII.lineFeed, from: i, to: end)
            if mode != .normal {
                guard let lf = lineFeed else {
                    event.skippedBytes += end - i
                    return
                }
                event.skippedBytes += lf + 1 - i
                mode = .normal
                i = lf + 1
                continue
            }
            guard let lf = lineFeed else {
                bufferPartialLine(p, from: i, to: end, event: &event)
                return
            }
            // The line is buffer + p[i..<lf], minus a CR just before the LF.
            let endsWithCR = lf > i ? p[lf - 1] == ASCII.carriageReturn : buffer.last == ASCII.carriageReturn
            let lineLength = buffer.count + (lf - i) - (endsWithCR ? 1 : 0)
            if lineLength > maximumLineLength {
                if countsOverlongLine(p, from: i, to: lf) { event.overlongLines += 1 }
                event.skippedBytes += lf + 1 - i
                buffer.removeAll(keepingCapacity: true)
            } else if buffer.isEmpty {
                onLine(UnsafeRawBufferPointer(rebasing: p[i..<(i + lineLength)]))
                event.lines += 1
            } else {
                append(p, from: i, to: lf)  // fits: lineLength + CR <= maximumLineLength + 1
                buffer.withUnsafeBytes { onLine(UnsafeRawBufferPointer(rebasing: $0[0..<lineLength])) }
                event.lines += 1
                buffer.removeAll(keepingCapacity: true)
            }
            i = lf + 1
        }
    }

    /// Keeps `p[from..<to]`, a line's start with no LF yet, unless the line is already too long.
    private mutating func bufferPartialLine(
        _ p: UnsafeRawBufferPointer, from: Int, to: Int, event: inout FTPStreamEvent
    ) {
        let total = buffer.count + (to - from)
        // With maximumLineLength + 1 bytes the line fits only if the last one is a CR whose LF
        // is still to come.
        let tooLong = total > maximumLineLength + 1 || (total == maximumLineLength + 1 && p[to - 1] != ASCII.carriageReturn)
        if tooLong {
            if countsOverlongLine(p, from: from, to: to) { event.overlongLines += 1 }
            event.skippedBytes += to - from
            buffer.removeAll(keepingCapacity: true)
            mode = .discardingOverlong
            return
        }
        append(p, from: from, to: to)
    }

    /// Whether the overlong line made of `buffer` and then `p[from..<to]` counts (see
    /// `announcingFromClient`).
    private func countsOverlongLine(_ p: UnsafeRawBufferPointer, from: Int, to: Int) -> Bool {
        guard let fromClient = announcingFromClient else { return true }
        var prefix: UInt32 = 0
        var taken = 0
        for byte in buffer.prefix(4) {
            prefix = prefix << 8 | UInt32(ASCII.lowercased(byte))
            taken += 1
        }
        var j = from
        while taken < 4 && j < to {
            prefix = prefix << 8 | UInt32(ASCII.lowercased(p[j]))
            taken += 1
            j += 1
        }
        return taken == 4 && FTPMessageParser.mayAnnounce(prefix: prefix, fromClient: fromClient)
    }

    private mutating func append(_ p: UnsafeRawBufferPointer, from: Int, to: Int) {
        if buffer.capacity == 0 { buffer.reserveCapacity(maximumLineLength + 1) }
        buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[from..<to]))
    }
}
