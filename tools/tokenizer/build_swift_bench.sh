#!/usr/bin/env bash
# Builds the Swift side of bench_tokenizer.py (and can run PhiTokenizer's tests) in an isolated package that
# points at this repository's PhiTokenizer sources, so other targets of the main package are not compiled.
#   tools/tokenizer/build_swift_bench.sh [package-dir]        -> <package-dir>/.build/release/tokbench
#   TEST=1 tools/tokenizer/build_swift_bench.sh [package-dir]  -> also runs `swift test` (debug) there
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PKG="${1:-/tmp/tokpkg}"
mkdir -p "$PKG/Sources" "$PKG/Tests"
ln -sfn "$ROOT/Sources/PhiTokenizer" "$PKG/Sources/PhiTokenizer"
ln -sfn "$ROOT/tools/tokenizer/SwiftBench" "$PKG/Sources/tokbench"
ln -sfn "$ROOT/Tests/PhiTokenizerTests" "$PKG/Tests/PhiTokenizerTests"
cat > "$PKG/Package.swift" <<'SWIFT'
// swift-tools-version:6.0
import PackageDescription

// Isolated development package for PhiTokenizer (sources are symlinks into the PhiKit repository).
let optimized: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]
let package = Package(
    name: "tokpkg",
    platforms: [.macOS(.v14)],
    targets: [
        .target(name: "PhiTokenizer", path: "Sources/PhiTokenizer", swiftSettings: optimized),
        .executableTarget(name: "tokbench", dependencies: ["PhiTokenizer"], path: "Sources/tokbench", swiftSettings: optimized),
        .testTarget(name: "PhiTokenizerTests", dependencies: ["PhiTokenizer"], path: "Tests/PhiTokenizerTests",
                    resources: [.copy("Fixtures")]),
    ]
)
SWIFT
cd "$PKG"
swift build -c release --product tokbench
if [ "${TEST:-0}" = "1" ]; then swift test; fi
echo "$PKG/.build/release/tokbench"
