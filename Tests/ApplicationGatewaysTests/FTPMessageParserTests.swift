import ApplicationGateways
import PacketParsing
import Testing

/// Well-formed announcements and lines that are not announcements.
@Suite struct FTPMessageParserTests {
    typealias T = FTPTest

    // MARK: PORT

    @Test func portBasic() {
        #expect(T.client("PORT 10,1,2,3,4,1") == T.port(T.v4(10, 1, 2, 3), 1025))
    }

    @Test func portIsCaseInsensitive() {
        #expect(T.client("port 10,1,2,3,4,1") == T.port(T.v4(10, 1, 2, 3), 1025))
        #expect(T.client("PoRt 10,1,2,3,4,1") == T.port(T.v4(10, 1, 2, 3), 1025))
    }

    @Test func portToleratesSpacesAndLineEnding() {
        #expect(T.client("PORT   10,1,2,3,4,1   ") == T.port(T.v4(10, 1, 2, 3), 1025))
        #expect(T.client("PORT 10,1,2,3,4,1\r\n") == T.port(T.v4(10, 1, 2, 3), 1025))
        #expect(T.client("PORT 10,1,2,3,4,1\r") == T.port(T.v4(10, 1, 2, 3), 1025))
    }

    @Test func portExtremes() {
        #expect(T.client("PORT 255,255,255,255,255,255") == T.port(T.v4(255, 255, 255, 255), 65535))
        #expect(T.client("PORT 0,0,0,0,0,1") == T.port(T.v4(0, 0, 0, 0), 1))
        #expect(T.client("PORT 010,001,002,003,004,001") == T.port(T.v4(10, 1, 2, 3), 1025))
    }

    /// zeek/ipv4.pcap frames 57 and 75 (NetBSD-ftpd session, client side).
    @Test func portRealZeekIPv4() {
        #expect(T.client("PORT 141,142,220,235,131,46") == T.port(T.v4(141, 142, 220, 235), 33582))
        #expect(T.client("PORT 141,142,220,235,147,203") == T.port(T.v4(141, 142, 220, 235), 37835))
    }

    /// suricata-verify/bug-4877.pcap frame 24 (vsFTPd 2.3.5): data connection to client port 57829.
    @Test func portRealVsftpd() {
        #expect(T.client("PORT 192,168,100,16,225,229") == T.port(T.v4(192, 168, 100, 16), 57829))
    }

    /// suricata-verify/ftp__ftp-bounce.pcap frame 27: a bounce to a third party's port 80 is
    /// well-formed; refusing it is the caller's policy.
    @Test func portBounceIsAnnouncementForCallerToRefuse() {
        #expect(T.client("PORT 2,2,2,3,0,80") == T.port(T.v4(2, 2, 2, 3), 80))
    }

    // MARK: EPRT

    @Test func eprtIPv4() {
        #expect(T.client("EPRT |1|132.235.1.2|6275|") == T.eprt(T.v4(132, 235, 1, 2), .ipv4, 6275))
        #expect(T.client("eprt |1|132.235.1.2|6275|") == T.eprt(T.v4(132, 235, 1, 2), .ipv4, 6275))
    }

    @Test func eprtOtherDelimiters() {
        #expect(T.client("EPRT !1!132.235.1.2!6275!") == T.eprt(T.v4(132, 235, 1, 2), .ipv4, 6275))
        #expect(T.client("EPRT ~2~::1~65535~") == T.eprt(IPAddress(high: 0, low: 1), .ipv6, 65535))
    }

    @Test func eprtIPv6FullForm() {
        let expected = IPAddress(high: 0x2001_0db8_0000_0000, low: 0x0000_ff00_0042_8329)
        #expect(T.client("EPRT |2|2001:0db8:0000:0000:0000:ff00:0042:8329|5282|") == T.eprt(expected, .ipv6, 5282))
        #expect(T.client("EPRT |2|2001:DB8:0:0:0:FF00:42:8329|5282|") == T.eprt(expected, .ipv6, 5282))
    }

    @Test func eprtIPv6Compressed() {
        let expected = IPAddress(high: 0x2001_0db8_0000_0000, low: 0x0000_ff00_0042_8329)
        #expect(T.client("EPRT |2|2001:db8::ff00:42:8329|5282|") == T.eprt(expected, .ipv6, 5282))
        #expect(T.client("EPRT |2|::1|5282|") == T.eprt(IPAddress(high: 0, low: 1), .ipv6, 5282))
        #expect(T.client("EPRT |2|fe80::|5282|") == T.eprt(IPAddress(high: 0xfe80_0000_0000_0000, low: 0), .ipv6, 5282))
        #expect(T.client("EPRT |2|::|5282|") == T.eprt(.zero, .ipv6, 5282))
        #expect(T.client("EPRT |2|1:2:3:4:5:6:7::|5282|")
            == T.eprt(IPAddress(high: 0x0001_0002_0003_0004, low: 0x0005_0006_0007_0000), .ipv6, 5282))
    }

    @Test func eprtIPv6EmbeddedDottedQuad() {
        // v4-mapped text gives the same value IPv4 addresses are stored as.
        #expect(T.client("EPRT |2|::ffff:192.0.2.1|5282|") == T.eprt(T.v4(192, 0, 2, 1), .ipv6, 5282))
        #expect(T.client("EPRT |2|64:ff9b::192.0.2.33|5282|")
            == T.eprt(IPAddress(high: 0x0064_ff9b_0000_0000, low: 0x0000_0000_c000_0221), .ipv6, 5282))
        #expect(T.client("EPRT |2|1:2:3:4:5:6:10.0.0.1|5282|")
            == T.eprt(IPAddress(high: 0x0001_0002_0003_0004, low: 0x0005_0006_0a00_0001), .ipv6, 5282))
    }

    /// zeek/ipv6.pcap frames 90 and 113 (NetBSD-ftpd over IPv6, client side).
    @Test func eprtRealZeekIPv6() {
        let client = IPAddress(high: 0x2001_0470_1f11_081f, low: 0xc999_0d94_aa7c_2e3e)
        #expect(T.client("EPRT |2|2001:470:1f11:81f:c999:d94:aa7c:2e3e|49189|") == T.eprt(client, .ipv6, 49189))
        #expect(T.client("EPRT |2|2001:470:1f11:81f:c999:d94:aa7c:2e3e|49190|") == T.eprt(client, .ipv6, 49190))
        #expect(client.description == "2001:470:1f11:81f:c999:d94:aa7c:2e3e")
    }

    // MARK: 227

    /// zeek/ipv4.pcap frames 20 and 39 (NetBSD-ftpd).
    @Test func pasvRealNetBSD() {
        #expect(T.server("227 Entering Passive Mode (199,233,217,249,221,90)") == T.pasv(T.v4(199, 233, 217, 249), 56666))
        #expect(T.server("227 Entering Passive Mode (199,233,217,249,221,91)") == T.pasv(T.v4(199, 233, 217, 249), 56667))
    }

    /// suricata-verify/firewall__ruletype-firewall-116-ftp-all-data-ipv4.pcap frame 14 (lower
    /// case "passive", trailing period) and ftp__ftp-upload-passive.pcap frame 46.
    @Test func pasvRealSuricata() {
        #expect(T.server("227 Entering passive mode (172,23,0,2,82,16).") == T.pasv(T.v4(172, 23, 0, 2), 21008))
        #expect(T.server("227 Entering Passive Mode (172,23,0,2,82,9).") == T.pasv(T.v4(172, 23, 0, 2), 21001))
    }

    /// suricata-verify/ftp__ftp-too-long-command-buffered.pcap frame 24.
    @Test func pasvRealTooLongCommandCapture() {
        #expect(T.server("227 Entering Passive Mode (2,2,2,2,185,13).") == T.pasv(T.v4(2, 2, 2, 2), 47373))
    }

    @Test func pasvWithoutParentheses() {
        #expect(T.server("227 Entering Passive Mode 10,0,0,1,4,1") == T.pasv(T.v4(10, 0, 0, 1), 1025))
        #expect(T.server("227 =10,0,0,1,4,1") == T.pasv(T.v4(10, 0, 0, 1), 1025))
        #expect(T.server("227 10,0,0,1,4,1") == T.pasv(T.v4(10, 0, 0, 1), 1025))
    }

    @Test func pasvNonASCIITextBeforeTheNumbersIsIgnored() {
        // A localised message: the bytes before the first digit are free text.
        let line: [UInt8] = Array("227 Entr".utf8) + [0xc3, 0xa9] + Array("e en mode passif (10,0,0,1,4,1)".utf8)
        #expect(T.parser.parse(line, fromClient: false) == T.pasv(T.v4(10, 0, 0, 1), 1025))
    }

    // MARK: 229

    /// zeek/ipv6.pcap frame 28 (NetBSD-ftpd), suricata-verify/ftp-epsv.pcap frame 29
    /// (ProFTPD 1.3.0a), zeek/retr.pcap frame 23 (mod_ftp 0.9.6).
    @Test func epsvReal() {
        #expect(T.server("229 Entering Extended Passive Mode (|||57086|)") == T.epsv(57086))
        #expect(T.server("229 Entering Extended Passive Mode (|||58612|)") == T.epsv(58612))
        #expect(T.server("229 Entering Extended Passive Mode (|||38141|)") == T.epsv(38141))
    }

    @Test func epsvOtherDelimiterAndTrailingText() {
        #expect(T.server("229 Entering Extended Passive Mode (!!!6446!)") == T.epsv(6446))
        #expect(T.server("229 ok (|||6446|) now") == T.epsv(6446))
        #expect(T.server("229 (|||65535|") == T.epsv(65535))
    }

    // MARK: Not announcements

    @Test func otherCommandsAndRepliesAreNone() {
        for line in ["USER anonymous", "PASV", "EPSV", "EPSV ALL", "RETR file", "PORTS 1,2,3,4,5,6", "PORTAL",
                     "EPRTX |1|1.2.3.4|5|", "", "POR", "200 PORT command successful. Consider using PASV."] {
            #expect(T.client(line) == .none, "\(line)")
        }
        for line in ["220 (vsFTPd 2.3.5)", "200 PORT command successful.", "2270 (1,2,3,4,5,6)",
                     "227-Entering Passive Mode (1,2,3,4,5,6)", "228 (1,2,3,4,5,6)", "22", "", "329 (|||5|)"] {
            #expect(T.server(line) == .none, "\(line)")
        }
    }

    /// A 227 or 229 with no address at all is not an error: pure-ftpd answers "227 Logout.",
    /// and zeek/fake-long-commands.pcap frame 24 has "227 Response to PASV command".
    @Test func repliesWithoutAnyAddressAreNone() {
        #expect(T.server("227 Logout.") == .none)
        #expect(T.server("227 Response to PASV command") == .none)
        #expect(T.server("227") == .none)
        #expect(T.server("227 ") == .none)
        #expect(T.server("229 Entering Extended Passive Mode") == .none)
        #expect(T.server("229") == .none)
    }

    @Test func directionMatters() {
        #expect(T.server("PORT 10,1,2,3,4,1") == .none)
        #expect(T.server("EPRT |1|1.2.3.4|5282|") == .none)
        #expect(T.client("227 Entering Passive Mode (10,0,0,1,4,1)") == .none)
        #expect(T.client("229 Entering Extended Passive Mode (|||6446|)") == .none)
    }

    @Test func lineOfExactlyTheLimitIsScanned() {
        let parser = FTPMessageParser(maximumLineLength: 32)
        let line = "PORT " + String(repeating: " ", count: 32 - 5 - 11) + "1,2,3,4,5,6"
        #expect(line.utf8.count == 32)
        #expect(parser.parse(Array(line.utf8), fromClient: true) == T.port(T.v4(1, 2, 3, 4), 1286))
        // The line ending does not count towards the limit.
        #expect(parser.parse(Array((line + "\r\n").utf8), fromClient: true) == T.port(T.v4(1, 2, 3, 4), 1286))
    }

    @Test func rawBufferEntryPointMatchesArrayEntryPoint() {
        let bytes = Array("EPRT |2|::1|5282|".utf8)
        let viaRaw = bytes.withUnsafeBytes { T.parser.parse($0, fromClient: true) }
        #expect(viaRaw == T.eprt(IPAddress(high: 0, low: 1), .ipv6, 5282))
    }

    @Test func modeNames() {
        #expect(FTPMode.allCases.map(\.name) == ["port", "eprt", "pasv", "epsv"])
    }
}
