import ApplicationGateways
import PacketParsing
import Testing

/// One test per rejection reason, asserting the exact reason.
@Suite struct FTPRejectReasonTests {
    typealias T = FTPTest

    @Test func octetOutOfRange() {
        #expect(T.client("PORT 256,1,2,3,4,1") == .rejected(.octetOutOfRange))
        #expect(T.client("PORT 1,2,3,999,4,1") == .rejected(.octetOutOfRange))
        #expect(T.server("227 Entering Passive Mode (10,300,0,1,4,1)") == .rejected(.octetOutOfRange))
        #expect(T.client("EPRT |1|10.0.0.256|5282|") == .rejected(.octetOutOfRange))
    }

    @Test func portByteOutOfRange() {
        #expect(T.client("PORT 10,1,2,3,256,1") == .rejected(.portByteOutOfRange))
        #expect(T.server("227 Entering Passive Mode (10,0,0,1,4,256)") == .rejected(.portByteOutOfRange))
    }

    @Test func portOutOfRange() {
        #expect(T.client("EPRT |1|10.0.0.1|65536|") == .rejected(.portOutOfRange))
        #expect(T.server("229 Entering Extended Passive Mode (|||70000|)") == .rejected(.portOutOfRange))
    }

    @Test func portZero() {
        #expect(T.client("PORT 10,1,2,3,0,0") == .rejected(.portZero))
        #expect(T.server("227 Entering Passive Mode (10,0,0,1,0,0)") == .rejected(.portZero))
        #expect(T.client("EPRT |1|10.0.0.1|0|") == .rejected(.portZero))
        #expect(T.server("229 Entering Extended Passive Mode (|||000|)") == .rejected(.portZero))
    }

    @Test func numericOverflow() {
        #expect(T.client("PORT 10,1,2,3,4,99999999999") == .rejected(.numericOverflow))
        #expect(T.server("227 Entering Passive Mode (4294967296,0,0,1,4,1)") == .rejected(.numericOverflow))
        #expect(T.client("EPRT |1|10.0.0.1|4294967296|") == .rejected(.numericOverflow))
        #expect(T.server("229 Entering Extended Passive Mode (|||18446744073709551616|)") == .rejected(.numericOverflow))
        // The largest 32-bit value is no overflow, only out of range.
        #expect(T.client("EPRT |1|10.0.0.1|4294967295|") == .rejected(.portOutOfRange))
    }

    /// zeek/fake-long-commands.pcap frame 32: "PORT 114,115".
    @Test func tooFewFields() {
        #expect(T.client("PORT 114,115") == .rejected(.tooFewFields))
        #expect(T.client("PORT") == .rejected(.tooFewFields))
        #expect(T.client("PORT   ") == .rejected(.tooFewFields))
        #expect(T.server("227 Entering Passive Mode (10,0,0,1)") == .rejected(.tooFewFields))
        #expect(T.client("EPRT |1|10.0.0.1|") == .rejected(.tooFewFields))
        #expect(T.client("EPRT") == .rejected(.tooFewFields))
        #expect(T.server("229 Entering Extended Passive Mode (|||") == .rejected(.tooFewFields))
    }

    @Test func tooManyFields() {
        #expect(T.client("PORT 10,1,2,3,4,1,7") == .rejected(.tooManyFields))
        #expect(T.server("227 Entering Passive Mode (10,0,0,1,4,1,9)") == .rejected(.tooManyFields))
        #expect(T.client("EPRT |1|10.0.0.1|5282|9|") == .rejected(.tooManyFields))
    }

    @Test func emptyField() {
        #expect(T.client("PORT 10,,2,3,4,1") == .rejected(.emptyField))
        #expect(T.client("PORT 10,1,2,3,4,") == .rejected(.emptyField))
        #expect(T.client("EPRT |1|10.0.0.1||") == .rejected(.emptyField))
        #expect(T.server("229 Entering Extended Passive Mode (||||)") == .rejected(.emptyField))
    }

    @Test func missingDelimiter() {
        #expect(T.client("EPRT |1|10.0.0.1|5282") == .rejected(.missingDelimiter))
        #expect(T.client("EPRT |1|10.0.0.1") == .rejected(.missingDelimiter))
        #expect(T.client("EPRT |1") == .rejected(.missingDelimiter))
        #expect(T.server("229 Entering Extended Passive Mode (|||6446") == .rejected(.missingDelimiter))
        #expect(T.server("229 Entering Extended Passive Mode (||") == .rejected(.missingDelimiter))
        #expect(T.server("229 Entering Extended Passive Mode (") == .rejected(.missingDelimiter))
    }

    @Test func mismatchedDelimiter() {
        #expect(T.client("EPRT |1|10.0.0.1|5282!") == .rejected(.mismatchedDelimiter))
        #expect(T.server("229 Entering Extended Passive Mode (|!|6446|)") == .rejected(.mismatchedDelimiter))
        #expect(T.server("229 Entering Extended Passive Mode (|||6446!)") == .rejected(.mismatchedDelimiter))
        // EPSV's address field must be empty.
        #expect(T.server("229 Entering Extended Passive Mode (||10.0.0.1|6446|)") == .rejected(.mismatchedDelimiter))
    }

    @Test func invalidDelimiter() {
        #expect(T.client("EPRT 1110.0.0.1151") == .rejected(.invalidDelimiter))
        #expect(T.server("229 Entering Extended Passive Mode ( ||6446|)") == .rejected(.invalidDelimiter))
        #expect(T.server("229 Entering Extended Passive Mode (5556446)") == .rejected(.invalidDelimiter))
    }

    @Test func badAddressFamily() {
        #expect(T.client("EPRT |3|10.0.0.1|5282|") == .rejected(.badAddressFamily))
        #expect(T.client("EPRT |0|10.0.0.1|5282|") == .rejected(.badAddressFamily))
        #expect(T.client("EPRT |12|10.0.0.1|5282|") == .rejected(.badAddressFamily))
        #expect(T.client("EPRT ||10.0.0.1|5282|") == .rejected(.badAddressFamily))
    }

    @Test func malformedAddress() {
        for address in ["10.0.0", "10.0.0.1.2", "10..0.1", "0010.0.0.1", "::1", "a.b.c.d", ""] {
            #expect(T.client("EPRT |1|\(address)|5282|") == .rejected(.malformedAddress), "\(address)")
        }
        for address in ["10.0.0.1", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::1", ":1::2",
                        "1::2:", "g::1", "::ffff:1.2.3", "::ffff:1.2.3.4:5", "::ffff:256.1.1.1",
                        "1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5:6:7:8::", ":", "1:2:3:4:5:6:7:8:"] {
            #expect(T.client("EPRT |2|\(address)|5282|") == .rejected(.malformedAddress), "\(address)")
        }
    }

    @Test func unexpectedCharacter() {
        #expect(T.client("PORT 10.1.2.3.4.1") == .rejected(.unexpectedCharacter))
        #expect(T.client("PORT 10,1,2,3,4,1x") == .rejected(.unexpectedCharacter))
        #expect(T.client("PORT 10,1,2, 3,4,1") == .rejected(.unexpectedCharacter))
        #expect(T.client("PORT x") == .rejected(.unexpectedCharacter))
        #expect(T.client("EPRT |1|10.0.0.1|x|") == .rejected(.unexpectedCharacter))
        #expect(T.server("229 Entering Extended Passive Mode (|||x|)") == .rejected(.unexpectedCharacter))
    }

    @Test func nonASCIIByte() {
        let port: [UInt8] = Array("PORT 10,1,2,3,4,".utf8) + [0xc3, 0xa9]
        #expect(T.parser.parse(port, fromClient: true) == .rejected(.nonASCIIByte))
        let eprt: [UInt8] = Array("EPRT |1|10.0.0.1|5282|".utf8) + [0x80]
        #expect(T.parser.parse(eprt, fromClient: true) == .rejected(.nonASCIIByte))
        let pasv: [UInt8] = Array("227 Entering Passive Mode (10,0,".utf8) + [0xff] + Array("0,1,4,1)".utf8)
        #expect(T.parser.parse(pasv, fromClient: false) == .rejected(.nonASCIIByte))
        let epsv: [UInt8] = Array("229 Entering Extended Passive Mode (".utf8) + [0xa6] + Array("||6446|)".utf8)
        #expect(T.parser.parse(epsv, fromClient: false) == .rejected(.nonASCIIByte))
    }

    @Test func controlByte() {
        #expect(T.client("PORT 10,1,2,3\u{0},4,1") == .rejected(.controlByte))
        #expect(T.client("PORT 10,1,2,3,4,1\t") == .rejected(.controlByte))
        #expect(T.client("EPRT |1|10.0.0.1\r|5282|") == .rejected(.controlByte))
        #expect(T.client("EPRT |1|10.0.0.1|5282|\u{7f}") == .rejected(.controlByte))
        #expect(T.server("227 Entering Passive Mode (10,0\u{1b},0,1,4,1)") == .rejected(.controlByte))
        #expect(T.server("229 Entering Extended Passive Mode (|||6446\u{0}|)") == .rejected(.controlByte))
    }

    @Test func lineTooLong() {
        let parser = FTPMessageParser(maximumLineLength: 32)
        let line = "PORT " + String(repeating: " ", count: 32 - 5 - 11 + 1) + "1,2,3,4,5,6"
        #expect(line.utf8.count == 33)
        #expect(parser.parse(Array(line.utf8), fromClient: true) == .rejected(.lineTooLong))
        // A long line that cannot announce is of no interest: not refused (OVS ignores it too).
        #expect(parser.parse(Array(String(repeating: "A", count: 33).utf8), fromClient: false) == .none)
        #expect(parser.parse(Array(("RETR " + String(repeating: "f", count: 40)).utf8), fromClient: true) == .none)
        // A reply code only counts from the server, a verb only from the client.
        let longReply = "227 " + String(repeating: "x", count: 40)
        #expect(parser.parse(Array(longReply.utf8), fromClient: false) == .rejected(.lineTooLong))
        #expect(parser.parse(Array(longReply.utf8), fromClient: true) == .none)
        #expect(parser.parse(Array(("eprt " + String(repeating: "|", count: 40)).utf8), fromClient: true) == .rejected(.lineTooLong))
        // The default limit is 256.
        let long = "227 (" + String(repeating: "1,", count: 125) + "1)"
        #expect(long.utf8.count == 257)
        #expect(T.server(long) == .rejected(.lineTooLong))
    }

    /// The policy reasons come from the caller, not the parser: they only need their own stable
    /// counter slot. The raw values and names are pinned here.
    @Test func policyReasonsHaveStableSlots() {
        #expect(FTPRejectReason.addressNotControlPeer.rawValue == 17)
        #expect(FTPRejectReason.privilegedPort.rawValue == 18)
        #expect(FTPRejectReason.familyMismatch.rawValue == 19)
        #expect(FTPRejectReason.addressNotControlPeer.name == "address_not_control_peer")
        #expect(FTPRejectReason.privilegedPort.name == "privileged_port")
        #expect(FTPRejectReason.familyMismatch.name == "family_mismatch")
    }

    @Test func rawValuesAreDenseAndNamesUnique() {
        let all = FTPRejectReason.allCases
        #expect(all.map(\.rawValue) == Array(0..<UInt8(all.count)))
        #expect(Set(all.map(\.name)).count == all.count)
        #expect(FTPRejectReason(rawValue: UInt8(all.count)) == nil)
    }

    /// Every reason the parser can give is produced by at least one of these lines.
    @Test func everyParserReasonIsReachable() {
        let client = ["PORT 256,1,2,3,4,1", "PORT 10,1,2,3,256,1", "EPRT |1|10.0.0.1|65536|", "PORT 10,1,2,3,0,0",
                      "PORT 10,1,2,3,4,99999999999", "PORT 114,115", "PORT 10,1,2,3,4,1,7", "PORT 10,,2,3,4,1",
                      "EPRT |1|10.0.0.1|5282", "EPRT |1|10.0.0.1|5282!", "EPRT 1110.0.0.1151",
                      "EPRT |3|10.0.0.1|5282|", "EPRT |2|10.0.0.1|5282|", "PORT 10.1.2.3.4.1",
                      "PORT 10,1,2,3\u{0},4,1", "PORT " + String(repeating: "1", count: 300)]
        var seen = Set<FTPRejectReason>()
        for line in client {
            if case .rejected(let reason) = T.client(line) { seen.insert(reason) }
        }
        if case .rejected(let reason) = T.parser.parse(Array("PORT 1,2,3,4,5,".utf8) + [0x90], fromClient: true) {
            seen.insert(reason)
        }
        let policy: Set<FTPRejectReason> = [.addressNotControlPeer, .privilegedPort, .familyMismatch]
        #expect(seen == Set(FTPRejectReason.allCases).subtracting(policy))
    }
}
