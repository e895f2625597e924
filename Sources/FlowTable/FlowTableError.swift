/// A flow file that does not parse: where (1-based line and column, columns counted in
/// Unicode scalars), the offending text, what is wrong and what was expected.
public struct FlowTableError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    /// The offending text (a field, a value, an action or an argument).
    public var text: String
    /// What is wrong, e.g. `unknown field 'nw_sorc'`.
    public var message: String
    /// What was expected there, when it can be said.
    public var expected: String?

    public init(line: Int, column: Int, text: String, message: String, expected: String? = nil) {
        self.line = line
        self.column = column
        self.text = text
        self.message = message
        self.expected = expected
    }

    /// `line 3, column 14: unknown field 'nw_sorc' (expected one of ...)`.
    public var description: String {
        "line \(line), column \(column): \(message)" + (expected.map { " (expected \($0))" } ?? "")
    }
}
