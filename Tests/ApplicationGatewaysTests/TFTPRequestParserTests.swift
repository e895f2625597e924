import ApplicationGateways
import Testing

@Suite struct TFTPRequestParserTests {
    let parser = TFTPRequestParser()

    static func packet(_ opcode: UInt16, _ parts: [String], terminateLast: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(opcode >> 8), UInt8(opcode & 0xff)]
        for (i, part) in parts.enumerated() {
            bytes += Array(part.utf8)
            if terminateLast || i < parts.count - 1 { bytes.append(0) }
        }
        return bytes
    }

    /// tcpdump/tftp.pcap frame 1: RRQ "file1" octet.
    @Test func realReadRequestTcpdump() {
        let bytes: [UInt8] = [0x00, 0x01, 0x66, 0x69, 0x6c, 0x65, 0x31, 0x00, 0x6f, 0x63, 0x74, 0x65, 0x74, 0x00]
        #expect(parser.parse(bytes) == .request(kind: .read, filenameLength: 5, mode: .octet))
    }

    /// suricata-verify/output-eve-tftp-01.pcap frame 1: RRQ "rfc1350.txt" octet.
    @Test func realReadRequestSuricata() {
        #expect(parser.parse(Self.packet(1, ["rfc1350.txt", "octet"])) == .request(kind: .read, filenameLength: 11, mode: .octet))
    }

    @Test func writeRequestAndModesAnyCase() {
        #expect(parser.parse(Self.packet(2, ["upload.bin", "OCTET"])) == .request(kind: .write, filenameLength: 10, mode: .octet))
        #expect(parser.parse(Self.packet(2, ["a", "NetAscii"])) == .request(kind: .write, filenameLength: 1, mode: .netascii))
        #expect(parser.parse(Self.packet(1, ["a", "netascii"])) == .request(kind: .read, filenameLength: 1, mode: .netascii))
        #expect(parser.parse(Self.packet(2, ["root", "mail"])) == .request(kind: .write, filenameLength: 4, mode: .mail))
    }

    @Test func optionsAfterModeAreAllowed() {
        let bytes = Self.packet(1, ["pxelinux.0", "octet", "blksize", "1432", "tsize", "0"])
        #expect(parser.parse(bytes) == .request(kind: .read, filenameLength: 10, mode: .octet))
    }

    @Test func otherOpcodesAreNone() {
        #expect(parser.parse([0x00, 0x03, 0x00, 0x01, 0x41]) == .none)  // DATA
        #expect(parser.parse([0x00, 0x04, 0x00, 0x01]) == .none)  // ACK
        #expect(parser.parse(Self.packet(5, ["\u{0}\u{1}File not found"])) == .none)  // ERROR
        #expect(parser.parse([0x00, 0x06]) == .none)  // OACK
    }

    @Test func rejectTruncated() {
        #expect(parser.parse([]) == .rejected(.truncated))
        #expect(parser.parse([0x00]) == .rejected(.truncated))
    }

    @Test func rejectBadOpcode() {
        #expect(parser.parse(Self.packet(0, ["a", "octet"])) == .rejected(.badOpcode))
        #expect(parser.parse(Self.packet(7, ["a", "octet"])) == .rejected(.badOpcode))
        #expect(parser.parse(Self.packet(0x0100, ["a", "octet"])) == .rejected(.badOpcode))
    }

    /// tcpdump/tftp-heapoverflow.pcap frame 1: opcode 1 then "00", cut off by the snap length.
    @Test func rejectNoNULAfterFilename() {
        #expect(parser.parse([0x00, 0x01, 0x30, 0x30]) == .rejected(.missingFilenameTerminator))
        #expect(parser.parse([0x00, 0x01]) == .rejected(.missingFilenameTerminator))
    }

    @Test func rejectEmptyFilename() {
        #expect(parser.parse(Self.packet(1, ["", "octet"])) == .rejected(.emptyFilename))
    }

    @Test func rejectNoNULAfterMode() {
        #expect(parser.parse(Self.packet(1, ["file", "octet"], terminateLast: false)) == .rejected(.missingModeTerminator))
        #expect(parser.parse(Self.packet(2, ["file"])) == .rejected(.missingModeTerminator))
    }

    @Test func rejectUnknownMode() {
        #expect(parser.parse(Self.packet(1, ["file", "binary"])) == .rejected(.unknownMode))
        #expect(parser.parse(Self.packet(1, ["file", ""])) == .rejected(.unknownMode))
        #expect(parser.parse(Self.packet(1, ["file", "octets"])) == .rejected(.unknownMode))
        #expect(parser.parse(Self.packet(1, ["file", "octe"])) == .rejected(.unknownMode))
    }

    @Test func rawBufferEntryPointMatchesArrayEntryPoint() {
        let bytes = Self.packet(2, ["x", "octet"])
        #expect(bytes.withUnsafeBytes { parser.parse($0) } == .request(kind: .write, filenameLength: 1, mode: .octet))
    }

    @Test func rejectReasonRawValuesAreDenseAndNamesUnique() {
        let all = TFTPRejectReason.allCases
        #expect(all.map(\.rawValue) == Array(0..<UInt8(all.count)))
        #expect(Set(all.map(\.name)).count == all.count)
    }
}
