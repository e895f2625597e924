import Testing

@Test func placeholderTraceSynthesis() { #expect(Bool(true)) }
