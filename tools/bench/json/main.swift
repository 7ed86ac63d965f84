// Times PhiJSON on a JSON file against Foundation's JSONSerialization in the same run (ratios, not absolutes).
// Built by tools/bench/json_parse.sh together with Sources/PhiJSON as one module.
import Foundation

let args = CommandLine.arguments
guard args.count >= 2, let data = FileManager.default.contents(atPath: args[1]) else {
    print("usage: json_parse_bench FILE.json [ROUNDS]")
    exit(2)
}
let rounds = args.count >= 3 ? Int(args[2]) ?? 20 : 20

/// Thread CPU time: the machine is shared, so wall time mostly measures the neighbours.
func cpuNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

var parsers: [(name: String, run: () throws -> Any)] = [
    ("Foundation JSONSerialization", { try JSONSerialization.jsonObject(with: data) }),
    ("PhiJSON JSONParser (JSONValue)", { try JSONParser.parse(data) }),
    ("PhiJSON FoundationJSON (Any)", { try FoundationJSON.parse(data) }),
]
#if OLD_JSON_READER
parsers.append(("old JSONReader (Any)", { try JSONReader.parse(data) }))
#endif
if let only = ProcessInfo.processInfo.environment["JSON_BENCH_ONLY"] {
    // For profiling one parser: JSON_BENCH_ONLY=a substring of its name.
    parsers = parsers.filter { $0.name.contains(only) }
}

// Round-robin, so a change in the machine's load hits every parser alike.
var times = [[Double]](repeating: [], count: parsers.count)
for _ in 0..<rounds {
    for (i, p) in parsers.enumerated() {
        let t0 = cpuNanoseconds()
        let v = try p.run()
        let t1 = cpuNanoseconds()
        withExtendedLifetime(v) {}
        times[i].append(Double(t1 - t0) / 1e6)
    }
}
print("\(args[1]): \(data.count) bytes, \(rounds) interleaved rounds, thread CPU time")
var medians: [String: Double] = [:]
for (i, p) in parsers.enumerated() {
    let s = times[i].sorted()
    medians[p.name] = s[s.count / 2]
    print(String(format: "%-32@ min %8.2f ms  median %8.2f ms", p.name as NSString, s[0], s[s.count / 2]))
}
for peer in ["Foundation JSONSerialization", "old JSONReader (Any)"] {
    guard let base = medians[peer] else { continue }
    for (name, m) in medians where name != peer && name.hasPrefix("PhiJSON") {
        print(String(format: "median %@ / %@: %.2fx", name as NSString, peer as NSString, m / base))
    }
}
