import Testing

@Test func placeholderConntrack() { #expect(Bool(true)) }
