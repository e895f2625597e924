import Testing

@Test func placeholderPacketParsing() { #expect(Bool(true)) }
