import Testing
@testable import BenchHarness

/// jemalloc is linked into ctbench (and this test binary, through BenchHarness) and is the
/// malloc actually in use, not merely present.
@Suite struct AllocatorTests {
    @Test func jemallocServesMalloc() {
        let report = AllocatorProbe.run()
        #expect(report.jemallocVersion?.hasPrefix("5.") == true)
        #expect(report.jemallocServesMalloc)
        #expect(report.description.contains("serves malloc"))
    }

    @Test func versionTextNamesTheAllocator() {
        #expect(CTBench.versionText.contains("allocator: jemalloc"))
        #expect(CTBench.versionText.hasPrefix("ctbench \(CTBench.version)"))
    }
}
