import Foundation

/// Paths of the package's committed sample traces.
enum Samples {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func trace(_ name: String) -> String {
        packageRoot.appendingPathComponent("traces").appendingPathComponent(name).path
    }

    static func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory
            .appendingPathComponent("ctbench-tests-\(getpid())-\(name)").path
    }
}
