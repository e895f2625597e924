import Testing

@Test func placeholderBenchHarness() { #expect(Bool(true)) }
