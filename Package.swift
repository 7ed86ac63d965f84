// swift-tools-version:6.0
import PackageDescription

// One-way dependencies, left to right:
// CPhiKernels ─▶ PhiKernels ─▶ PhiTensor ─▶ PhiWeights ─▶ PhiNN ─▶ PhiModels ─▶ PhiGeneration ─▶ PhiKit ─▶ phi4
// PhiTokenizer (Foundation only) ─────────────────────────────────────────────┤
// CPhiMedia (libjpeg-turbo, libpng) ─▶ PhiMedia (image/audio decoding, preprocessing) ──┘
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
        .executable(name: "phi4", targets: ["phi4"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CPhiKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
        .target(name: "PhiKernels", dependencies: ["CPhiKernels"], swiftSettings: optimized),
        .target(name: "PhiTensor", dependencies: ["PhiKernels", "CPhiKernels"], swiftSettings: optimized),
        .target(name: "PhiWeights", dependencies: ["PhiTensor", "PhiKernels", "CPhiKernels"], swiftSettings: optimized),
        .target(name: "PhiTokenizer", swiftSettings: optimized),
        .target(name: "PhiNN", dependencies: ["PhiKernels", "PhiTensor", "PhiWeights"], swiftSettings: optimized),
        .target(name: "PhiModels", dependencies: ["PhiNN", "PhiWeights"], swiftSettings: optimized),
        // Image codecs: the system's libjpeg-turbo and libpng on Linux (their setjmp error handling must stay in C);
        // ImageIO on Apple platforms.
        .target(name: "CPhiMedia", cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [
            .linkedLibrary("jpeg", .when(platforms: [.linux])), .linkedLibrary("png", .when(platforms: [.linux])),
        ]),
        .target(name: "PhiMedia", dependencies: ["CPhiMedia", "PhiKernels"], swiftSettings: optimized),
        .target(name: "PhiGeneration", dependencies: ["PhiModels", "PhiTokenizer", "PhiWeights", "PhiMedia"], swiftSettings: optimized),
        .target(name: "PhiKit", dependencies: ["PhiGeneration"], swiftSettings: optimized),
        .executableTarget(name: "phi4", dependencies: [
            "PhiKit", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimized),
        .testTarget(name: "PhiKernelsTests", dependencies: ["PhiKernels"]),
        .testTarget(name: "PhiWeightsTests", dependencies: ["PhiWeights"]),
        .testTarget(name: "PhiTokenizerTests", dependencies: ["PhiTokenizer"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PhiModelsTests", dependencies: ["PhiModels", "PhiWeights"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PhiMediaTests", dependencies: ["PhiMedia"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PhiGenerationTests", dependencies: ["PhiKit"]),
        .testTarget(name: "Phi4CLITests", dependencies: ["phi4", "PhiWeights"]),
    ],
    swiftLanguageModes: [.v5]
)
