import Conntrack
import FlowTable
import TraceSynthesis

/// The `flows` target: the input as a flow file through `FlowParser`. A file that parses is
/// loaded into the classifier; keys made from each flow's own match (with input bytes mixed
/// in) must find the same flow priority as a linear scan, and the action pipeline must end
/// within its resubmit and recirculation limits. A file that does not parse must say where.
enum FlowsTarget {
    static func run(_ input: UnsafeRawBufferPointer) -> [String] {
        let text = String(decoding: input, as: UTF8.self)
        var checks = Invariants()
        let flows: [Flow]
        do {
            flows = try FlowParser.parse(text)
        } catch {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            checks.check(error.line >= 1 && error.line <= lines && error.column >= 1,
                         "error at line \(error.line) of \(lines), column \(error.column): \(error)")
            checks.check(!error.description.isEmpty, "error without a message")
            return checks.violations
        }
        let classifier = Classifier(flows)
        var rng = Xoshiro256StarStar(seed: UInt64(input.count))
        for flow in flows.prefix(16) {
            var key = flow.match.value
            if rng.int(below: 2) == 0 { key.tpDst = UInt16(truncatingIfNeeded: rng.next()) }
            if rng.int(below: 2) == 0 { key.ctState = CTState(rawValue: UInt8(truncatingIfNeeded: rng.next())) }
            let expected = linearLookup(flows, table: flow.table, key: key).map { flows[$0].priority }
            let got = classifier.lookup(table: flow.table, key: key)?.priority
            checks.check(got == expected, "table \(flow.table): classifier found priority \(String(describing: got)), "
                         + "a linear scan \(String(describing: expected))")
            let result = classifier.run(key: key, table: flow.table) { spec in
                CTVerdict(state: spec.commit ? [.tracked, .new] : [.tracked, .established], zone: spec.zone)
            }
            checks.check(result.recirculations <= Classifier.maxRecirculations, "\(result.recirculations) recirculations")
        }
        return checks.violations
    }

    /// The reference lookup: the highest-priority flow of the table that matches.
    static func linearLookup(_ flows: [Flow], table: UInt8, key: MatchKey) -> Int? {
        var best: Int?
        for (i, f) in flows.enumerated() where f.table == table && f.match.matches(key) {
            if best.map({ f.priority > flows[$0].priority }) ?? true { best = i }
        }
        return best
    }
}
