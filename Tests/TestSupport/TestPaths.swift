import Foundation
import Testing

/// Where the tests find their data: the package root (committed sample traces under traces/)
/// and the public captures in ../shared/traces next to it (as in CI). Shared by the test targets.
public enum TestPaths {
    /// The package root: Tests/TestSupport/TestPaths.swift -> ../../..
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .standardizedFileURL

    /// ../shared next to the package root.
    public static let shared = packageRoot.deletingLastPathComponent().appendingPathComponent("shared")

    /// The public captures folder; records a test issue naming the expected path and throws when
    /// it is missing.
    public static func sharedTraces() throws -> URL {
        let dir = shared.appendingPathComponent("traces")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            Issue.record("shared captures folder missing: expected it at \(dir.path) (../shared/traces next to the package root)")
            throw MissingFixture(path: dir.path)
        }
        return dir
    }

    /// A committed sample trace, traces/NAME.
    public static func sampleTrace(_ name: String) -> String {
        packageRoot.appendingPathComponent("traces").appendingPathComponent(name).path
    }

    /// A committed flow file, flows/NAME.
    public static func flowFile(_ name: String) -> String {
        packageRoot.appendingPathComponent("flows").appendingPathComponent(name).path
    }
}

/// A test fixture (folder or file) that is not where the tests expect it.
public struct MissingFixture: Error, CustomStringConvertible {
    public let path: String
    public init(path: String) { self.path = path }
    public var description: String { "missing test fixture: \(path)" }
}
