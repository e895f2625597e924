/// IPAddress storage and text (dotted quad, RFC 5952).
import Testing
import PacketParsing

@Suite struct IPAddressTests {
    @Test func v4Mapped() {
        let a = IPAddress(v4: 0xc0a8_0101)
        #expect(a.high == 0 && a.low == 0x0000_ffff_c0a8_0101)
        #expect(a.v4 == 0xc0a8_0101)
        #expect(A6.v4 == nil)
    }

    @Test func v4Description() {
        #expect(IPAddress(v4: 0xc0a8_0101).description == "192.168.1.1")
        #expect(IPAddress(v4: 0).description == "0.0.0.0")
        #expect(IPAddress(v4: 0xffff_ffff).description == "255.255.255.255")
    }

    @Test(arguments: [
        (UInt64(0), UInt64(1), "::1"),
        (0, 0, "::"),
        (0x2001_0db8_0000_0000, 1, "2001:db8::1"),
        (0xfe80_0000_0000_0000, 0x0200_5eff_fe00_5301, "fe80::200:5eff:fe00:5301"),
        // A single zero group is not compressed (RFC 5952 §4.2.2).
        (0x2001_0db8_0000_0001, 0x0001_0001_0001_0001, "2001:db8:0:1:1:1:1:1"),
        // The longest run is compressed (§4.2.3)...
        (0x2001_0000_0000_0001, 0x0000_0000_0000_0001, "2001:0:0:1::1"),
        // ...and the first of equal runs.
        (0x2001_0db8_0000_0000, 0x0001_0000_0000_0001, "2001:db8::1:0:0:1"),
        (0x2001_0db8_0000_0000, 0, "2001:db8::"),
        (0xffff_ffff_ffff_ffff, 0xffff_ffff_ffff_ffff, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ])
    func v6Description(high: UInt64, low: UInt64, text: String) {
        #expect(IPAddress(high: high, low: low).description == text)
    }

    @Test func ordering() {
        #expect(A < B && A6 < B6 && !(B < A))
        #expect(IPAddress(high: 1, low: 0) > IPAddress(high: 0, low: .max))
    }
}
