// swift-tools-version: 6.1
// Hot-path benchmarks of ctbench (ordo-one/package-benchmark), a package of their own so that the
// root package's build and tests never depend on the benchmark tooling.
//
//   swift package --package-path Benchmarks benchmark                 # run, per-packet figures with --scale
//   scripts/benchmarks.sh                                             # run + check against Benchmarks/Thresholds
//
// Static thresholds (p90 per metric) live in Benchmarks/Thresholds/, one JSON file per benchmark;
// the tolerances they are checked with are in the benchmark code (see results/README.md).
import PackageDescription

let benchmarkPlugin: [Target.PluginUsage] = [.plugin(name: "BenchmarkPlugin", package: "benchmark")]

let package = Package(
    name: "ctbench-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The root package, by path. Its identity would be the checkout's directory name, so it is
        // named explicitly for the product references below.
        .package(name: "ctbench", path: ".."),
        // The trait drops the default RuntimeInterposer trait, whose dependency is not mirrored here.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // ConntrackEstablished/1k|100k|1M, ConntrackNewConnection: the partition alone, packets pre-parsed.
        .executableTarget(
            name: "ConntrackBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Conntrack", package: "ctbench"),
                .product(name: "PacketParsing", package: "ctbench"),
                .product(name: "TraceSynthesis", package: "ctbench"),
            ],
            path: "Benchmarks/ConntrackBenchmarks",
            plugins: benchmarkPlugin),
        // ParseEthernetIPv4TCP, DefaultPipelineAnchorLike: real frames from TraceSynthesis.
        .executableTarget(
            name: "DatapathBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Conntrack", package: "ctbench"),
                .product(name: "Datapath", package: "ctbench"),
                .product(name: "PacketParsing", package: "ctbench"),
                .product(name: "TraceIO", package: "ctbench"),
                .product(name: "TraceSynthesis", package: "ctbench"),
            ],
            path: "Benchmarks/DatapathBenchmarks",
            plugins: benchmarkPlugin),
        // Resident memory per live connection at 1,000,000 connections (not a package-benchmark
        // target: one fill, one RSS reading; the plugin only picks up targets under Benchmarks/).
        .executableTarget(
            name: "MemoryPerConnection",
            dependencies: [
                .product(name: "Conntrack", package: "ctbench"),
                .product(name: "PacketParsing", package: "ctbench"),
            ],
            path: "Tools/MemoryPerConnection"),
    ]
)
