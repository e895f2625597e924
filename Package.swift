// swift-tools-version: 6.1
// ctbench: a sharded userspace connection tracker with ALGs, and the harness that measures it.
// Dependencies point one way, towards PacketParsing (see docs/DESIGN.md).
import PackageDescription

/// Hot-path modules skip the runtime exclusivity checks in release builds: the partition, its
/// trackers and ALGs are single-owner by design (one per shard), the static checks still run,
/// and debug builds (the test suite) keep the dynamic checks. Measured: about a third of the
/// per-packet time went to swift_beginAccess/endAccess (docs/PERFORMANCE.md).
///
/// `CTBENCH_TARGET_CPU=znver2` (any LLVM CPU name) at build time also compiles them for that
/// processor (AVX2 where LLVM finds vector code): +4-5% on the anchor trace here in session 3,
/// ~1% since the portable checksum got faster (docs/PERFORMANCE.md), but the binary
/// then runs only on such processors, so the default build leaves it out.
let targetCPU = Context.environment["CTBENCH_TARGET_CPU"].map { ["-target-cpu", $0] } ?? []
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"] + targetCPU, .when(configuration: .release))]

let package = Package(
    name: "ctbench",
    products: [
        .executable(name: "ctbench", targets: ["ctbench"]),
        .library(name: "PacketParsing", targets: ["PacketParsing"]),
        .library(name: "TraceIO", targets: ["TraceIO"]),
        .library(name: "TraceSynthesis", targets: ["TraceSynthesis"]),
        .library(name: "Conntrack", targets: ["Conntrack"]),
        .library(name: "Datapath", targets: ["Datapath"]),
        .library(name: "FlowTable", targets: ["FlowTable"]),
        // The fuzz targets as plain functions: the libFuzzer package under Fuzz/ and the tests use them.
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // Header views over raw bytes, the flow key and its symmetric hash. Stdlib only: hot path.
        .target(name: "PacketParsing", swiftSettings: hotPath),

        // libpcap as a system library (Debian: libpcap-dev).
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),

        // __builtin_prefetch for Swift (header-only, inlined).
        .target(name: "CPrefetch"),

        // Pinning a thread to a processor (cpu_set_t is not visible from Swift).
        .target(name: "CThreadAffinity"),

        // Loading pcap/pcapng files into one contiguous in-memory trace; writing pcap files.
        .target(name: "TraceIO", dependencies: ["PacketParsing", "CPcap"]),

        // Deterministic synthetic traffic: packet builder and trace generator (TCP, UDP, ICMP, FTP, TFTP).
        .target(name: "TraceSynthesis", dependencies: ["PacketParsing", "TraceIO"]),

        // The connection table: one single-threaded partition with OVS ct semantics. Hot path.
        .target(name: "Conntrack", dependencies: ["PacketParsing", "CPrefetch"], swiftSettings: hotPath),

        // FTP and TFTP helpers: parse control traffic, create expectations. Hot path.
        .target(name: "ApplicationGateways", dependencies: ["Conntrack", "PacketParsing"], swiftSettings: hotPath),

        // OpenFlow-style flow tables: the flow language, the classifier (tuple space search), the
        // action-list semantics. Stdlib only. Hot path (the classifier runs per packet).
        .target(name: "FlowTable", dependencies: ["Conntrack", "PacketParsing"], swiftSettings: hotPath),

        // The datapath: the default pipeline or a flow table over a partition and its ALGs, shards, the router.
        .target(
            name: "Datapath",
            dependencies: [
                "PacketParsing", "TraceIO", "Conntrack", "ApplicationGateways", "FlowTable", "CPrefetch",
                "CThreadAffinity", .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: hotPath),

        // The harness behind the ctbench command: commands, measurement, reports.
        .target(
            name: "BenchHarness",
            dependencies: [
                "PacketParsing", "TraceIO", "TraceSynthesis", "Conntrack", "ApplicationGateways", "Datapath", "FlowTable",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]),
        // The fuzz targets (parsers, pipeline, sharded datapath, flow parser, pcap loader) as
        // functions of their input bytes, with the invariants each input must keep. Fuzz/ runs
        // them under libFuzzer; the tests replay the committed corpus (Fuzz/Corpus).
        .target(
            name: "FuzzTargets",
            dependencies: ["PacketParsing", "TraceIO", "TraceSynthesis", "Conntrack", "ApplicationGateways", "Datapath", "FlowTable"]),

        // jemalloc (Debian: libjemalloc-dev) replaces malloc in the executable only: the test
        // binary keeps the system allocator so that it runs under Address/ThreadSanitizer.
        .executableTarget(
            name: "ctbench", dependencies: ["BenchHarness"], linkerSettings: [.linkedLibrary("jemalloc")]),

        // Paths of the test data (committed samples, ../shared/traces), shared by the test targets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "PacketParsingTests", dependencies: ["PacketParsing"]),
        .testTarget(name: "ConntrackTests", dependencies: ["Conntrack", "PacketParsing"]),
        .testTarget(name: "FlowTableTests", dependencies: ["FlowTable", "Conntrack", "PacketParsing", "TraceSynthesis"]),
        .testTarget(name: "ApplicationGatewaysTests", dependencies: ["ApplicationGateways", "Conntrack", "PacketParsing"]),
        .testTarget(name: "TraceIOTests", dependencies: ["TraceIO", "PacketParsing", "TestSupport"]),
        .testTarget(name: "TraceSynthesisTests", dependencies: ["TraceSynthesis", "TraceIO", "PacketParsing"]),
        .testTarget(
            name: "DatapathTests",
            dependencies: ["Datapath", "FlowTable", "TraceIO", "TraceSynthesis", "Conntrack", "ApplicationGateways", "PacketParsing", "TestSupport"],
            exclude: ["Fixtures"]),
        .testTarget(name: "BenchHarnessTests", dependencies: ["BenchHarness", "TraceIO", "TraceSynthesis", "PacketParsing"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "TestSupport"]),
        .testTarget(
            name: "ALGIntegrationTests",
            dependencies: ["Datapath", "FlowTable", "ApplicationGateways", "Conntrack", "TraceIO", "TraceSynthesis", "PacketParsing", "TestSupport"]),
    ]
)
