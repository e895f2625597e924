import ApplicationGateways
import Testing

/// Collects what an assembler delivers.
struct AssemblerRun {
    var assembler: FTPLineAssembler
    var lines: [String] = []
    var overlong = 0
    var events: [FTPStreamEvent] = []

    init(maximumLineLength: Int = FTPMessageParser.defaultMaximumLineLength) {
        assembler = FTPLineAssembler(maximumLineLength: maximumLineLength)
    }

    @discardableResult
    mutating func feed(_ seq: UInt32, _ bytes: ArraySlice<UInt8>) -> FTPStreamEvent {
        var got: [String] = []
        let event = Array(bytes).withUnsafeBytes { raw in
            assembler.feed(seq: seq, payload: raw) { got.append(String(decoding: $0, as: UTF8.self)) }
        }
        #expect(event.lines == got.count)
        lines += got
        overlong += event.overlongLines
        events.append(event)
        return event
    }

    @discardableResult
    mutating func feed(_ seq: UInt32, _ text: String) -> FTPStreamEvent {
        feed(seq, ArraySlice(Array(text.utf8)))
    }
}

@Suite struct FTPLineAssemblerTests {
    /// Streams whose lines must come out the same however they are cut. They start near the
    /// 2^32 wrap so that sequence arithmetic wraps inside them.
    static let streams: [String] = [
        "220 (vsFTPd 2.3.5)\r\nUSER anonymous\r\nPORT 192,168,100,16,225,229\r\n",
        "227 Entering Passive Mode (199,233,217,249,221,90)\r\n\r\nEPRT |2|::1|5282|\nlast line\r\n",
        "a\rb\r\n\n\r\n\rx\n",
        "partial line without end",
    ]
    static let initialSequence: UInt32 = 0xffff_fff0

    /// Reference: split at LF, strip one CR before it, drop the unterminated tail.
    /// Works on bytes: a String would see "\r\n" as one Character.
    static func reference(_ text: String) -> [String] {
        var lines: [String] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n") {
                if current.last == UInt8(ascii: "\r") { current.removeLast() }
                lines.append(String(decoding: current, as: UTF8.self))
                current = []
            } else {
                current.append(byte)
            }
        }
        return lines
    }

    @Test func referenceIsSane() {
        #expect(Self.reference("a\r\nb\n\nc") == ["a", "b", ""])
        #expect(Self.reference("a\rb\r\n\n\r\n\rx\n") == ["a\rb", "", "", "\rx"])
    }

    @Test func wholeStreamAtOnce() {
        for text in Self.streams {
            var run = AssemblerRun()
            run.feed(Self.initialSequence, text)
            #expect(run.lines == Self.reference(text))
        }
    }

    @Test func byteByByte() {
        for text in Self.streams {
            let bytes = Array(text.utf8)
            var run = AssemblerRun()
            for i in bytes.indices {
                run.feed(Self.initialSequence &+ UInt32(i), bytes[i...i])
            }
            #expect(run.lines == Self.reference(text))
            #expect(run.events.allSatisfy { $0.position == .inOrder })
        }
    }

    @Test func everyTwoWaySplit() {
        for text in Self.streams {
            let bytes = Array(text.utf8)
            for cut in 0...bytes.count {
                var run = AssemblerRun()
                run.feed(Self.initialSequence, bytes[..<cut])
                run.feed(Self.initialSequence &+ UInt32(cut), bytes[cut...])
                #expect(run.lines == Self.reference(text), "cut \(cut)")
            }
        }
    }

    @Test func everyThreeWaySplitOfOneStream() {
        let text = Self.streams[0]
        let bytes = Array(text.utf8)
        for a in 0...bytes.count {
            for b in a...bytes.count {
                var run = AssemblerRun()
                run.feed(Self.initialSequence, bytes[..<a])
                run.feed(Self.initialSequence &+ UInt32(a), bytes[a..<b])
                run.feed(Self.initialSequence &+ UInt32(b), bytes[b...])
                #expect(run.lines == Self.reference(text), "cuts \(a) \(b)")
            }
        }
    }

    @Test func retransmissionGivesNoDuplicate() {
        let text = "PORT 10,1,2,3,4,1\r\nPASV\r\n"
        let bytes = Array(text.utf8)
        var run = AssemblerRun()
        run.feed(100, bytes[..<19])
        let again = run.feed(100, bytes[..<19])
        #expect(again == FTPStreamEvent(position: .retransmission, duplicateBytes: 19))
        run.feed(119, bytes[19...])
        run.feed(100, bytes[...])  // the whole stream again
        #expect(run.lines == ["PORT 10,1,2,3,4,1", "PASV"])
        #expect(run.events.last?.position == .retransmission)
    }

    @Test func everyOverlapIsTrimmed() {
        let text = Self.streams[1]
        let bytes = Array(text.utf8)
        for cut in 1...bytes.count {
            for back in 1...cut where cut < bytes.count {
                var run = AssemblerRun()
                run.feed(Self.initialSequence, bytes[..<cut])
                let event = run.feed(Self.initialSequence &+ UInt32(cut - back), bytes[(cut - back)...])
                #expect(event.position == .overlap)
                #expect(event.duplicateBytes == back)
                #expect(run.lines == Self.reference(text), "cut \(cut) back \(back)")
            }
        }
    }

    @Test func gapIsNotParsed() {
        var run = AssemblerRun()
        run.feed(1000, "PORT 10,1,2")
        // ",3,4,1\r\n" would be at 1011; bytes 1011..<1013 are lost.
        let gap = run.feed(1013, "3,4,1\r\n")
        #expect(gap.position == .gap)
        #expect(gap.skippedBytes == 7)
        #expect(run.lines.isEmpty)
        // Resynchronised: the next line parses.
        run.feed(1020, "PASV\r\n")
        #expect(run.lines == ["PASV"])
        // The lost bytes arriving late are a retransmission.
        #expect(run.feed(1011, ",3,4,1\r\n").position == .retransmission)
        #expect(run.lines == ["PASV"])
    }

    @Test func gapSegmentStartingAtALineStartIsStillNotParsed() {
        var run = AssemblerRun()
        run.feed(0, "USER a\r\n")
        run.feed(50, "PORT 10,1,2,3,4,1\r\n")  // bytes 8..<50 lost: nothing says this starts a line
        run.feed(69, "PASV\r\n")
        #expect(run.lines == ["USER a", "PASV"])
    }

    @Test func gapResynchronisesInsideTheGapSegment() {
        var run = AssemblerRun()
        run.feed(0, "USER a\r\n")
        let event = run.feed(20, "2,3,4,1\r\nPASV\r\nPORT 10,1")
        #expect(event.position == .gap)
        #expect(run.lines == ["USER a", "PASV"])
        run.feed(44, ",2,3,4,1\r\n")
        #expect(run.lines == ["USER a", "PASV", "PORT 10,1,2,3,4,1"])
    }

    @Test func gapWithoutLineFeedKeepsSkipping() {
        var run = AssemblerRun()
        run.feed(0, "USER a\r\n")
        run.feed(100, "no line end here")
        let skipped = run.feed(116, "still none")
        #expect(skipped.skippedBytes == 10)
        run.feed(126, "\r\nPASV\r\n")
        #expect(run.lines == ["USER a", "PASV"])
    }

    @Test func sequenceWrapIsInOrder() {
        var run = AssemblerRun()
        run.feed(0xffff_fffc, "PAS")
        let event = run.feed(0xffff_ffff, "V\r\nQUIT\r\n")  // wraps to 0 after one byte
        #expect(event.position == .inOrder)
        #expect(run.feed(8, "USER b\r\n").position == .inOrder)
        #expect(run.lines == ["PASV", "QUIT", "USER b"])
        #expect(run.assembler.nextExpectedSequence == 16)
    }

    @Test func emptyPayloadChangesNothing() {
        var run = AssemblerRun()
        run.feed(10, "PA")
        #expect(run.feed(9999, "") == FTPStreamEvent(position: .empty))
        run.feed(12, "SV\r\n")
        #expect(run.lines == ["PASV"])
    }

    @Test func overlongLineIsReportedOnceAndNextLineParses() {
        let text = String(repeating: "A", count: 40) + "\r\nPASV\r\n"
        let bytes = Array(text.utf8)
        for cut in 0...bytes.count {
            var run = AssemblerRun(maximumLineLength: 16)
            run.feed(0, bytes[..<cut])
            run.feed(UInt32(cut), bytes[cut...])
            #expect(run.overlong == 1, "cut \(cut)")
            #expect(run.lines == ["PASV"], "cut \(cut)")
        }
        var byByte = AssemblerRun(maximumLineLength: 16)
        for i in bytes.indices { byByte.feed(UInt32(i), bytes[i...i]) }
        #expect(byByte.overlong == 1)
        #expect(byByte.lines == ["PASV"])
    }

    @Test func lineOfExactlyTheLimitIsDeliveredEvenSplitAfterItsCR() {
        let line = String(repeating: "B", count: 16)
        let bytes = Array((line + "\r\n" + line + "B\r\nok\n").utf8)
        for cut in 0...bytes.count {
            var run = AssemblerRun(maximumLineLength: 16)
            run.feed(0, bytes[..<cut])
            run.feed(UInt32(cut), bytes[cut...])
            #expect(run.lines == [line, "ok"], "cut \(cut)")
            #expect(run.overlong == 1, "cut \(cut)")
            #expect(run.assembler.bufferedByteCount <= 17)
        }
    }

    /// Like suricata-verify's ftp-too-long-command-buffered (its frame 24 is the 227 reply; the
    /// client then sends a 42,068-byte RETR line in 43 segments): the line is reported once,
    /// memory stays within the bound, and the next line parses.
    @Test func hugeLineInFortyThreeSegmentsStaysBounded() {
        let line = Array("RETR ".utf8) + Array(repeating: UInt8(ascii: "A"), count: 42_068 - 5)
        #expect(line.count == 42_068)
        let stream = line + Array("\r\nPASV\r\n".utf8)
        let segmentCount = 43
        let size = (line.count + segmentCount - 1) / segmentCount
        var run = AssemblerRun()
        var seq: UInt32 = 0x7fff_ff00
        var offset = 0
        // A line split across two segments first, so the buffer exists before the long line.
        var firstCapacity = 0
        run.feed(seq &- 6, "PAS")
        run.feed(seq &- 3, "V\r\n")
        #expect(run.lines == ["PASV"])
        firstCapacity = run.assembler.bufferCapacity
        run.events.removeAll()
        var segments = 0
        while offset < line.count {
            let end = min(offset + size, line.count)
            run.feed(seq, stream[offset..<end])
            seq &+= UInt32(end - offset)
            offset = end
            segments += 1
            #expect(run.assembler.bufferedByteCount <= FTPMessageParser.defaultMaximumLineLength + 1)
            #expect(run.assembler.bufferCapacity == firstCapacity)
        }
        #expect(segments == 43)
        run.feed(seq, stream[offset...])
        #expect(run.overlong == 1)
        #expect(run.lines == ["PASV", "PASV"])
        #expect(firstCapacity > FTPMessageParser.defaultMaximumLineLength)
        #expect(firstCapacity < 2 * FTPMessageParser.defaultMaximumLineLength)
        #expect(run.assembler.bufferCapacity == firstCapacity)
        #expect(run.events.reduce(0) { $0 + $1.skippedBytes } == 42_068 + 2)
    }

    @Test func linesWithinOneSegmentNeedNoBuffer() {
        var run = AssemblerRun()
        run.feed(0, "USER a\r\nPASS b\r\nPASV\r\n")
        #expect(run.lines.count == 3)
        #expect(run.assembler.bufferCapacity == 0)
    }

    @Test func assemblerFeedsParser() {
        let parser = FTPMessageParser()
        var assembler = FTPLineAssembler()
        var results: [FTPParseResult] = []
        let segments = ["227 Entering Passive Mode (199,233,", "217,249,221,90)\r", "\n229 Entering Extended Passive Mode (|||57086|)\r\n"]
        var seq: UInt32 = 500
        for segment in segments {
            let bytes = Array(segment.utf8)
            _ = bytes.withUnsafeBytes { raw in
                assembler.feed(seq: seq, payload: raw) { results.append(parser.parse($0, fromClient: false)) }
            }
            seq &+= UInt32(bytes.count)
        }
        #expect(results == [FTPTest.pasv(FTPTest.v4(199, 233, 217, 249), 56666), FTPTest.epsv(57086)])
    }

    @Test func resetForgetsState() {
        var run = AssemblerRun()
        run.feed(0, "PORT 1,2")
        run.assembler.reset()
        #expect(run.assembler.nextExpectedSequence == nil)
        #expect(run.assembler.bufferedByteCount == 0)
        run.feed(5000, "PASV\r\n")
        #expect(run.lines == ["PASV"])
    }
}
