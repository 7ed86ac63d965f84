// swift-tools-version:6.0
import PackageDescription

// One-way dependencies, left to right:
// CPhiKernels ─▶ PhiKernels ─▶ PhiTensor ─▶ PhiWeights ─▶ PhiNN ─▶ PhiModels ─▶ PhiGeneration ─▶ PhiKit ─▶ phi4
// PhiJSON ─▶ PhiTokenizer (Foundation only) ──────────────────────────────────┤
// PhiFiles (SafeFile, Foundation only) ─▶ PhiKernels, PhiTokenizer
//    └────▶ PhiWeights
// CPhiMedia (libjpeg-turbo, libpng) ─▶ PhiMedia (image/audio decoding, preprocessing) ──┘
// PhiMedia also feeds PhiModels: its preprocessed image (Phi4MMImageInput) is the vision tower's input type.
// Release builds use -O, which keeps Swift's overflow, bounds, force-unwrap and Int(Double) range checks: every target
// here either parses input (weights, tokenizer, media, configs, prompts) or computes sizes from it, and under
// -Ounchecked a missed validation is silent memory corruption instead of a trap (issue 10). No target keeps
// -Ounchecked because none measurably gains from it: the hot loops are the C kernels (CPhiKernels, -O3). Measured
// with tools/bench/compare_builds.py, every Swift target -O against every one -Ounchecked, interleaved on a
// shared 2-core machine, CPU seconds (checked/unchecked): SmolLM2-135M bench pp128+tg32 with --quantize q4 1.007,
// as stored (Q4_1) 1.019, tokenizing 0.9 MB 0.98, tiny Phi-4-multimodal image + audio preprocessing 0.997;
// WAV/FLAC decoding of 100–300 s clips equal within noise.
let optimized: [SwiftSetting] = [.unsafeFlags(["-wmo"], .when(configuration: .release))]

let package = Package(
    name: "PhiKit",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "PhiKit", targets: ["PhiKit"]),
        // For tools/fuzz (its HTTP request-body target calls `RequestDecoding`); `phi4 serve` is the server's front.
        .library(name: "PhiServer", targets: ["PhiServer"]),
        .executable(name: "phi4", targets: ["phi4"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // PhiServer only (the library targets do not depend on these).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.65.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CPhiKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
        // Opening files users name (regular files only, O_NONBLOCK, size-bounded): Foundation only, under every
        // target that reads a user's file. PhiKernels re-exports it.
        .target(name: "PhiFiles"),
        .target(name: "PhiKernels", dependencies: ["CPhiKernels", "PhiFiles"], swiftSettings: optimized),
        .target(name: "PhiTensor", dependencies: ["PhiKernels", "CPhiKernels"], swiftSettings: optimized),
        // The one strict JSON parser (and Decodable decoder) for every JSON file PhiKit reads. Foundation only.
        // Plain -O, not -Ounchecked: it reads untrusted bytes, so its bounds and overflow checks must stay.
        .target(name: "PhiJSON"),
        .target(name: "PhiWeights", dependencies: ["PhiTensor", "PhiKernels", "CPhiKernels", "PhiJSON"], swiftSettings: optimized),
        .target(name: "PhiTokenizer", dependencies: ["PhiJSON", "PhiFiles"], swiftSettings: optimized),
        .target(name: "PhiNN", dependencies: ["PhiKernels", "PhiTensor", "PhiWeights"], swiftSettings: optimized),
        .target(name: "PhiModels", dependencies: ["PhiNN", "PhiWeights", "PhiMedia", "PhiJSON"], swiftSettings: optimized),
        // Image codecs: the system's libjpeg-turbo and libpng on Linux (their setjmp error handling must stay in C);
        // ImageIO on Apple platforms.
        .target(name: "CPhiMedia", cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [
            .linkedLibrary("jpeg", .when(platforms: [.linux])), .linkedLibrary("png", .when(platforms: [.linux])),
        ]),
        .target(name: "PhiMedia", dependencies: ["CPhiMedia", "PhiKernels"], swiftSettings: optimized),
        .target(name: "PhiGeneration", dependencies: ["PhiModels", "PhiTokenizer", "PhiWeights", "PhiMedia", "PhiJSON"], swiftSettings: optimized),
        .target(name: "PhiKit", dependencies: ["PhiGeneration"], swiftSettings: optimized),
        // OpenAI-compatible HTTP over the engine: translation between HTTP/SSE and engine requests only.
        .target(name: "PhiServer", dependencies: [
            "PhiKit", "PhiJSON",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "MultipartKit", package: "multipart-kit"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "phi4", dependencies: [
            "PhiKit", "PhiServer", "PhiJSON", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimized),
        // Fixture locations, the seeded RNG and the parity tolerances, shared by every test target (Foundation only).
        .target(name: "PhiTestSupport", path: "Tests/PhiTestSupport"),
        .testTarget(name: "PhiKernelsTests", dependencies: ["PhiKernels", "PhiTestSupport"]),
        .testTarget(name: "PhiTensorTests", dependencies: ["PhiTensor", "PhiTestSupport"]),
        .testTarget(name: "PhiJSONTests", dependencies: ["PhiJSON", "PhiTestSupport"]),
        .testTarget(name: "PhiWeightsTests", dependencies: ["PhiWeights", "PhiJSON", "PhiTestSupport"]),
        .testTarget(name: "PhiNNTests", dependencies: ["PhiNN", "PhiWeights", "PhiTestSupport"]),
        .testTarget(name: "PhiTokenizerTests", dependencies: ["PhiTokenizer", "PhiTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PhiModelsTests", dependencies: ["PhiModels", "PhiWeights", "PhiJSON", "PhiTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PhiMediaTests", dependencies: ["PhiMedia", "PhiTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PhiGenerationTests", dependencies: ["PhiKit", "PhiTestSupport"]),
        .testTarget(name: "Phi4CLITests", dependencies: ["phi4", "PhiWeights", "PhiTestSupport"]),
        .testTarget(name: "PhiServerTests", dependencies: [
            "PhiServer", "PhiKit", "PhiTestSupport", .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ],
    swiftLanguageModes: [.v5]
)
