import Testing
@Test func placeholderALG() { #expect(Bool(true)) }
