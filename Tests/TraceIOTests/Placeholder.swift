import Testing

@Test func placeholderTraceIO() { #expect(Bool(true)) }
