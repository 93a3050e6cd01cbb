// swift-tools-version:6.0
// gpt2d — a GPT-2 inference daemon for Linux. See ARCHITECTURE.md for the target graph.
//
// Dependency rule: edges point down only. Nothing under Clients/ reaches GPT2Core,
// CBLAS or CSystemd; each C library has exactly one Swift importer.
import PackageDescription

let package = Package(
    name: "gpt2d",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "GPT2Core", targets: ["GPT2Core"]),
        .library(name: "GPT2Tokenizer", targets: ["GPT2Tokenizer"]),
        .library(name: "GPT2Wire", targets: ["GPT2Wire"]),
        .executable(name: "gpt2-bench", targets: ["gpt2-bench"]),
        .executable(name: "gpt2d", targets: ["gpt2d"]),
        .library(name: "GPT2Client", targets: ["GPT2Client"]),
        .executable(name: "gpt2ctl", targets: ["gpt2ctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // MARK: C libraries (one system-library target each; includes only)
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CMsgPack", pkgConfig: "msgpack", providers: [.apt(["libmsgpack-dev"])]),

        // MARK: Libraries
        /// Bounds on what the process takes from its users: regular-file reads with a size cap (no FIFO
        /// or device ever blocks), quoted user data with a length cap. No dependencies.
        .target(name: "GPT2Bounds"),
        /// SIGBUS guard for mmap'd weight files: a fault in a registered region is patched with zero
        /// pages and flagged instead of killing the process. Plain C, no library.
        .target(name: "CFaultGuard"),
        /// Swift JSON value over json-c; the only importer of CJSONC, and the one JSON reader of the project.
        .target(name: "GPT2JSON", dependencies: ["CJSONC"]),
        /// GPT-2 byte-level BPE tokenizer (vocab.json + merges.txt), streaming decoder.
        .target(name: "GPT2Tokenizer", dependencies: ["GPT2JSON", "GPT2Bounds"]),
        /// Small-batch matrix kernels with x86 intrinsics (AVX-512 chosen at run time); no logic beyond the math.
        /// Built optimised in every configuration (-O2): at -O0 its intrinsics spill every vector, which
        /// made the debug build (the tests) pay 10–50× for each kernel.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O2"])]),
        /// The allowed values of every generation parameter, declared once: the core's validation and
        /// the wire's decoder both read them. No dependencies (clients link it without the engine).
        .target(name: "GPT2Parameters"),
        /// Config, mmap'd safetensors / PyTorch / TF / Flax weights, kernels, KV cache, batched forward, the
        /// quantized-weight cache. Only importer of CBLAS, of CXXHash (its digests), of CHDF5 (tf_model.h5)
        /// and of CMsgPack (flax_model.msgpack); pytorch_model.bin's zip directory is its own bounded reader.
        .target(name: "GPT2Core", dependencies: [
            "CBLAS", "CKernels", "CFaultGuard", "CXXHash", "CHDF5", "CMsgPack", "GPT2JSON", "GPT2Bounds", "GPT2Parameters",
        ]),
        /// Wire protocol v1: request/response types, error codes, line framing. Shared by daemon and clients.
        .target(name: "GPT2Wire", dependencies: ["GPT2JSON", "GPT2Bounds", "GPT2Parameters"]),
        /// sd_notify, socket activation, watchdog, journal logging. Only importer of CSystemd.
        .target(name: "GPT2Systemd", dependencies: [
            "CSystemd", .product(name: "Logging", package: "swift-log"),
        ]),

        /// Task heads with transformers-pipeline semantics (classify, tag, qa, choose, embed) over hidden states.
        .target(name: "GPT2Tasks", dependencies: ["GPT2Core", "GPT2Tokenizer"]),
        /// The daemon as a library: engine (scheduler, sessions, generation), socket server, router, config,
        /// metrics (swift-metrics handles over one swift-prometheus registry: Metrics/); GRDB (SQLite: Debian
        /// libsqlite3-dev) only under Persistence/, the session database.
        .target(name: "GPT2Daemon", dependencies: [
            "GPT2Core", "GPT2Tokenizer", "GPT2Tasks", "GPT2Wire", "GPT2JSON", "GPT2Systemd", "GPT2Bounds", "GPT2Parameters",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Configuration", package: "swift-configuration"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),

        // MARK: Clients (never link OpenBLAS, libsystemd or the engine)
        /// Async Swift client for every op of the protocol.
        .target(name: "GPT2Client", dependencies: [
            "GPT2Wire",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ], path: "Clients/GPT2Client"),
        .executableTarget(name: "gpt2ctl", dependencies: [
            "GPT2Client",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Clients/gpt2ctl", exclude: ["completions"]),

        // MARK: Executables
        /// Its options come from GPT2Daemon's settings table (DaemonCommandLine), not from ArgumentParser.
        .executableTarget(name: "gpt2d", dependencies: ["GPT2Daemon", "GPT2Wire"]),
        .executableTarget(name: "gpt2-bench", dependencies: [
            "GPT2Core", "GPT2Tokenizer", "GPT2JSON",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: Tests
        .target(name: "GPT2TestSupport", dependencies: ["GPT2Core"], path: "Tests/GPT2TestSupport"),
        .testTarget(name: "GPT2CoreTests", dependencies: ["GPT2Core", "GPT2TestSupport", "GPT2Parameters"]),
        .testTarget(name: "GPT2TokenizerTests", dependencies: ["GPT2Tokenizer", "GPT2TestSupport"]),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels"]),
        .testTarget(name: "GPT2JSONTests", dependencies: ["GPT2JSON"]),
        .testTarget(name: "GPT2BoundsTests", dependencies: ["GPT2Bounds", "CFaultGuard"]),
        .testTarget(name: "GPT2WireTests", dependencies: ["GPT2Wire", "GPT2Parameters"]),
        .testTarget(name: "GPT2SystemdTests", dependencies: ["GPT2Systemd"]),
        .testTarget(name: "GPT2DaemonTests", dependencies: [
            "GPT2Daemon", "GPT2TestSupport",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
        ]),
        .testTarget(name: "GPT2TasksTests", dependencies: ["GPT2Tasks", "GPT2TestSupport"]),
        .testTarget(name: "GPT2ClientTests", dependencies: ["GPT2Client", "GPT2Daemon", "GPT2TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)

// MARK: Fuzz targets (libFuzzer) — only in the manifest when GPT2D_FUZZ=1, so `swift build` / `swift test`
// never see them. scripts/fuzz.sh sets it and builds each one in .build-fuzz with -sanitize=fuzzer,address.
// Each target is one file without top-level code (-parse-as-library) that exports its test function and
// `<Target>_main`, the entry point SwiftPM links debug executables with, which starts libFuzzer.
if Context.environment["GPT2D_FUZZ"] == "1" {
    let asLibrary: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]
    func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
        .executableTarget(name: name, dependencies: dependencies + ["GPT2FuzzSupport", "CFuzzerDriver"],
                          path: "Fuzz/\(name)", swiftSettings: asLibrary)
    }
    package.targets += [
        /// What every fuzz target shares: the input as bytes, the invariant check that aborts.
        .target(name: "GPT2FuzzSupport", path: "Fuzz/GPT2FuzzSupport"),
        /// Calls libFuzzer's driver (LLVMFuzzerRunDriver) from a target's entry point.
        .target(name: "CFuzzerDriver", path: "Fuzz/CFuzzerDriver"),
        fuzzTarget("FuzzJSON", ["GPT2JSON"]),
        fuzzTarget("FuzzWire", ["GPT2Wire", "GPT2JSON"]),
        fuzzTarget("FuzzTokenizer", ["GPT2Tokenizer"]),
        fuzzTarget("FuzzSafeTensors", ["GPT2Core"]),
        fuzzTarget("FuzzConfig", ["GPT2Core"]),
        fuzzTarget("FuzzPickle", ["GPT2Core"]),
        fuzzTarget("FuzzShardIndex", ["GPT2Core"]),
        fuzzTarget("FuzzFlax", ["GPT2Core"]),
        fuzzTarget("FuzzQuantCache", ["GPT2Core"]),
        fuzzTarget("FuzzGGUF", ["GPT2Core"]),
        fuzzTarget("FuzzQuantState", ["GPT2Core"]),
    ]
}
