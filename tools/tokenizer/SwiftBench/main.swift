// Swift side of tools/tokenizer/bench_tokenizer.py: times PhiTokenizer encode on the fixture corpus.
// Usage: tokbench <fixtures-dir> [target-MB] [repeats]
import Foundation
import PhiTokenizer

let args = CommandLine.arguments
let dir = URL(fileURLWithPath: args.count > 1 ? args[1] : "Tests/PhiTokenizerTests/Fixtures")
let targetMB = args.count > 2 ? Double(args[2]) ?? 4 : 4
let repeats = args.count > 3 ? Int(args[3]) ?? 5 : 5

var t0 = Date()
let tokenizer = try Tokenizer(directory: dir)
let loadSeconds = Date().timeIntervalSince(t0)

let corpusData = try Data(contentsOf: dir.appendingPathComponent("encode_plain.jsonl"))
var lines: [String] = []
for line in corpusData.split(separator: UInt8(ascii: "\n")) {
    if let obj = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let text = obj["text"] as? String {
        lines.append(text)
    }
}
let corpus = lines.joined(separator: "\n")
var text = corpus
while Double(text.utf8.count) < targetMB * 1_000_000 { text += "\n" + corpus }
let bytes = Double(text.utf8.count)

_ = tokenizer.encode("warm up: builds the Unicode table once per process (~30 ms)")
// First pass: the piece cache starts empty (the corpus is repeated, so later passes mostly hit the cache).
t0 = Date()
var tokens = tokenizer.encode(corpus).count
let coldSeconds = Date().timeIntervalSince(t0)
let coldBytes = Double(corpus.utf8.count)
var best = Double.infinity
for _ in 0..<repeats {
    t0 = Date()
    tokens = tokenizer.encode(text).count
    best = min(best, Date().timeIntervalSince(t0))
}
// Per-line encoding (many short calls), as a chat server does.
t0 = Date()
var lineTokens = 0
for line in lines { lineTokens += tokenizer.encode(line).count }
let lineSeconds = Date().timeIntervalSince(t0)
let corpusBytes = Double(lines.reduce(0) { $0 + $1.utf8.count })
print(String(format: "swift: load %.3f s; %.2f MB, %d tokens; best of %d: %.3f s = %.2f MB/s, %.2f M tokens/s; "
             + "per-line: %.2f MB/s; cold cache (corpus once): %.2f MB/s",
             loadSeconds, bytes / 1e6, tokens, repeats, best, bytes / 1e6 / best, Double(tokens) / 1e6 / best,
             corpusBytes / 1e6 / lineSeconds, coldBytes / 1e6 / coldSeconds))
