/// Collects the invariants an input broke, with a short context for each.
struct Invariants {
    private(set) var violations: [String] = []

    /// Records `message` when `condition` is false.
    mutating func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition && violations.count < 16 { violations.append(message()) }
    }
}
