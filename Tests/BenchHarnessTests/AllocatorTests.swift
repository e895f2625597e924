import Foundation
import Testing
@testable import BenchHarness

/// jemalloc is linked into the ctbench executable and is the malloc actually in use there, not
/// merely present. (The test binary itself keeps the system allocator, so that the suite runs
/// under the sanitizers; the executable is run as a user would.)
@Suite struct AllocatorTests {
    /// The ctbench executable built next to this test binary.
    static var ctbench: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("ctbench")
    }

    static var underSanitizer: Bool { dlsym(nil, "__tsan_init") != nil || dlsym(nil, "__asan_init") != nil }

    @Test(.enabled(if: !AllocatorTests.underSanitizer, "jemalloc and the sanitizers each want to own malloc"))
    func ctbenchVersionShowsJemallocServingMalloc() throws {
        let process = Process()
        process.executableURL = Self.ctbench
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        #expect(text.hasPrefix("ctbench \(CTBench.version)"))
        #expect(text.contains("allocator: jemalloc 5."))
        #expect(text.contains("(serves malloc"))
    }

    @Test func theProbeSaysWhenJemallocIsAbsent() {
        // This test binary does not link jemalloc.
        let report = AllocatorProbe.run()
        #expect(report.jemallocVersion == nil)
        #expect(!report.jemallocServesMalloc)
        #expect(report.description == "allocator: system malloc (jemalloc not linked)")
    }
}
