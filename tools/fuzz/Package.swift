// swift-tools-version:6.0
// Coverage-guided fuzz targets (libFuzzer) for every parser that takes outside input. Built by run.sh with the
// release configuration of PhiKit plus -sanitize=fuzzer,address (and UBSan for C); not part of the main package,
// so a normal build never needs the fuzzer runtime. One executable per parser; see README.md.
import PackageDescription

let targets = ["gguf", "safetensors", "safetensors-index", "npy", "wav", "flac", "image", "config", "tokenizer", "chat", "http", "constraint"]

let package = Package(
    name: "PhiKitFuzz",
    dependencies: [.package(name: "PhiKit", path: "../..")],
    targets: targets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: [.product(name: name == "http" ? "PhiServer" : "PhiKit", package: "PhiKit"), "FuzzSupport", "CFuzzMain"],
            path: "Targets/\(name)",
            // no top-level code: the harness defines <module>_main (SwiftPM's alias for main) and LLVMFuzzerTestOneInput
            swiftSettings: [.unsafeFlags(["-parse-as-library"])])
    } + [.target(name: "FuzzSupport", path: "Support"), .target(name: "CFuzzMain", path: "CFuzzMain")]
)
