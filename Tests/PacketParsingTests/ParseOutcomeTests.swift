/// ParseOutcome names and raw values.
import Testing
import PacketParsing

@Suite struct ParseOutcomeTests {
    @Test func namesAreUniqueAndSnakeCase() {
        let names = ParseOutcome.allCases.map(\.name)
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(!name.isEmpty && name.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) })
        }
        #expect(ParseOutcome.badTCPDataOffset.name == "bad_tcp_data_offset")
        #expect(ParseOutcome.truncatedSCTPHeader.name == "truncated_sctp_header")
    }

    /// Raw values index counters: dense from 0, `.ok` first, the added SCTP case last.
    @Test func rawValuesAreDense() {
        for (index, outcome) in ParseOutcome.allCases.enumerated() {
            #expect(Int(outcome.rawValue) == index)
        }
        #expect(ParseOutcome.ok.rawValue == 0)
        #expect(ParseOutcome.truncatedICMPHeader.rawValue == 20)
        #expect(ParseOutcome.truncatedSCTPHeader.rawValue == 21)
    }
}
