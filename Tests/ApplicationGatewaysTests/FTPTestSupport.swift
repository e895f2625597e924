import ApplicationGateways
import PacketParsing

/// Helpers shared by the FTP tests.
enum FTPTest {
    static let parser = FTPMessageParser()

    static func client(_ line: String) -> FTPParseResult {
        parser.parse(Array(line.utf8), fromClient: true)
    }

    static func server(_ line: String) -> FTPParseResult {
        parser.parse(Array(line.utf8), fromClient: false)
    }

    static func v4(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32) -> IPAddress {
        IPAddress(v4: a << 24 | b << 16 | c << 8 | d)
    }

    static func port(_ host: IPAddress, _ port: UInt16) -> FTPParseResult {
        .announcement(FTPAnnouncement(mode: .port, address: host, family: .ipv4, port: port))
    }

    static func pasv(_ host: IPAddress, _ port: UInt16) -> FTPParseResult {
        .announcement(FTPAnnouncement(mode: .pasv, address: host, family: .ipv4, port: port))
    }

    static func eprt(_ host: IPAddress, _ family: AddressFamily, _ port: UInt16) -> FTPParseResult {
        .announcement(FTPAnnouncement(mode: .eprt, address: host, family: family, port: port))
    }

    static func epsv(_ port: UInt16) -> FTPParseResult {
        .announcement(FTPAnnouncement(mode: .epsv, address: nil, family: nil, port: port))
    }
}
