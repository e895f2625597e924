// swift-tools-version: 6.1
// libFuzzer executables for ctbench's fuzz targets (Sources/FuzzTargets in the package above).
// Kept apart so that the main `swift build` / `swift test` never see the fuzzer flags. Build and
// run them with scripts/fuzz.sh (see Fuzz/README.md).
import Foundation
import PackageDescription

/// A path dependency's identity is its folder's name (the checkout may be called anything).
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent

/// One executable per target; each main.swift hands its target to libFuzzer (`FuzzMain`).
let names = ["packet", "datapath", "ftp", "tftp", "flows", "pcap"]

let package = Package(
    name: "ctbench-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "CFuzzer"),
        .target(name: "FuzzMain", dependencies: ["CFuzzer", .product(name: "FuzzTargets", package: root)]),
    ] + names.map { name in
        .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzMain"], path: "Targets/\(name)")
    }
)
