// Times PhiJSON on a JSON file against Foundation's JSONSerialization in the same run (ratios, not absolutes).
// Built by tools/bench/json_parse.sh together with Sources/PhiJSON as one module.
import Foundation

let args = CommandLine.arguments
guard args.count >= 2, let data = FileManager.default.contents(atPath: args[1]) else {
    print("usage: json_parse_bench FILE.json [ROUNDS]")
    exit(2)
}
let rounds = args.count >= 3 ? Int(args[2]) ?? 10 : 10

func cpuNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func best(_ name: String, _ body: () throws -> Any) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<rounds {
        // Thread CPU time: the machine is shared, so wall time mostly measures the neighbours.
        let t0 = cpuNanoseconds()
        let v = try body()
        let t1 = cpuNanoseconds()
        withExtendedLifetime(v) {}
        times.append(Double(t1 - t0) / 1e6)
    }
    let b = times.min() ?? 0
    let median = times.sorted()[times.count / 2]
    print(String(format: "%-34@ best %8.2f ms  median %8.2f ms (thread CPU time)", name as NSString, b, median))
    return b
}

print("\(args[1]): \(data.count) bytes, best of \(rounds)")
if let only = ProcessInfo.processInfo.environment["JSON_BENCH_ONLY"] {
    // For profiling one parser: JSON_BENCH_ONLY=value|any
    _ = try best(only) {
        #if OLD_JSON_READER
        if only == "old" { return try JSONReader.parse(data) }
        #endif
        return only == "any" ? try FoundationJSON.parse(data) : try JSONParser.parse(data)
    }
    exit(0)
}
let foundation = try best("Foundation JSONSerialization") { try JSONSerialization.jsonObject(with: data) }
let tree = try best("PhiJSON JSONParser (JSONValue)") { try JSONParser.parse(data) }
let any = try best("PhiJSON FoundationJSON (Any)") { try FoundationJSON.parse(data) }
var extra: [(String, Double)] = []
#if OLD_JSON_READER
extra.append(("old JSONReader", try best("old JSONReader (Any)") { try JSONReader.parse(data) }))
#endif
print(String(format: "ratios vs JSONSerialization: JSONValue %.2fx, FoundationJSON %.2fx", tree / foundation, any / foundation))
for (n, t) in extra { print(String(format: "FoundationJSON / %@: %.2fx, JSONValue / %@: %.2fx", n, any / t, n, tree / t)) }
