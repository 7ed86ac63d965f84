// swift-tools-version:6.0
import PackageDescription

// One-way dependencies, left to right:
// CPhiKernels ─▶ PhiKernels ─▶ PhiTensor ─▶ PhiWeights ─▶ PhiNN ─▶ PhiModels ─▶ PhiGeneration ─▶ PhiKit ─▶ phi4
// PhiJSON ─▶ PhiTokenizer (Foundation only) ──────────────────────────────────┤
//    └────▶ PhiWeights
// CPhiMedia (libjpeg-turbo, libpng) ─▶ PhiMedia (image/audio decoding, preprocessing) ──┘
let optimized: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

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
        // The one strict JSON parser (and Decodable decoder) for every JSON file PhiKit reads. Foundation only.
        // Plain -O, not -Ounchecked: it reads untrusted bytes, so its bounds and overflow checks must stay.
        .target(name: "PhiJSON"),
        .target(name: "PhiWeights", dependencies: ["PhiTensor", "PhiKernels", "CPhiKernels", "PhiJSON"], swiftSettings: optimized),
        .target(name: "PhiTokenizer", dependencies: ["PhiJSON"], swiftSettings: optimized),
        .target(name: "PhiNN", dependencies: ["PhiKernels", "PhiTensor", "PhiWeights"], swiftSettings: optimized),
        .target(name: "PhiModels", dependencies: ["PhiNN", "PhiWeights", "PhiJSON"], swiftSettings: optimized),
        // Image codecs: the system's libjpeg-turbo and libpng on Linux (their setjmp error handling must stay in C);
        // ImageIO on Apple platforms.
        .target(name: "CPhiMedia", cSettings: [.unsafeFlags(["-O2"])], linkerSettings: [
            .linkedLibrary("jpeg", .when(platforms: [.linux])), .linkedLibrary("png", .when(platforms: [.linux])),
        ]),
        .target(name: "PhiMedia", dependencies: ["CPhiMedia"], swiftSettings: optimized),
        .target(name: "PhiGeneration", dependencies: ["PhiModels", "PhiTokenizer", "PhiWeights", "PhiMedia", "PhiJSON"], swiftSettings: optimized),
        .target(name: "PhiKit", dependencies: ["PhiGeneration"], swiftSettings: optimized),
        .executableTarget(name: "phi4", dependencies: [
            "PhiKit", "PhiJSON", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimized),
        .testTarget(name: "PhiKernelsTests", dependencies: ["PhiKernels"]),
        .testTarget(name: "PhiJSONTests", dependencies: ["PhiJSON"]),
        .testTarget(name: "PhiWeightsTests", dependencies: ["PhiWeights", "PhiJSON"]),
        .testTarget(name: "PhiTokenizerTests", dependencies: ["PhiTokenizer"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PhiModelsTests", dependencies: ["PhiModels", "PhiWeights", "PhiJSON"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PhiMediaTests", dependencies: ["PhiMedia"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PhiGenerationTests", dependencies: ["PhiKit"]),
        .testTarget(name: "Phi4CLITests", dependencies: ["phi4", "PhiWeights"]),
    ],
    swiftLanguageModes: [.v5]
)
