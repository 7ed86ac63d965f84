import Foundation
import CFuzzMain
import FuzzSupport
import PhiKit

/// Constrained-decoding inputs, which reach `phi4 serve` in request bodies (`response_format` JSON schemas, tool
/// lists) and `phi4 run` in files: the first byte picks (mod 4) a JSON schema, a regex, a GBNF-like grammar or a
/// tool list (forced tool call); the rest is its text. Each is compiled over a fixed byte-level vocabulary (every
/// printable ASCII character, a few merges, the tool-call tokens), then walked a few tokens, always taking the lowest
/// allowed id so a run is reproducible.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConstraint(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0, let tok = tokenizer else { return 0 }
    let text = String(decoding: FuzzSupport.data(data + 1, size - 1), as: UTF8.self)
    let constraint: Constraint
    switch data[0] % 4 {
    case 0: constraint = .jsonSchema(text)
    case 1: constraint = .regex(text)
    case 2: constraint = .grammar(text)
    default: constraint = .toolCall(tools: text, name: nil)
    }
    guard let compiled = try? constraint.compile(for: tok, useCache: false) else { return 0 }
    var matcher = compiled.makeMatcher()
    var mask = TokenMask(count: compiled.vocabularySize)
    for _ in 0..<8 {
        matcher.allowedTokens(into: &mask)
        guard let id = mask.allowedIDs.first, matcher.accept(token: id) else { break }
    }
    _ = matcher.forcedBytes()
    _ = matcher.isComplete
    return 0
}

/// Printable ASCII as ByteLevel tokens (those bytes map to themselves; "Ġ" is the space), a few merges JSON output
/// uses, and the tokens a Phi tool call needs.
private let tokenizer: Tokenizer? = {
    var vocab: [String: Int] = ["Ġ": 0]
    for b in UInt8(0x21)...UInt8(0x7E) { vocab[String(UnicodeScalar(b))] = vocab.count }
    let merges = [["{", "\""], ["\"", ":"], ["\"", ","], ["t", "r"], ["tr", "u"], ["tru", "e"], ["Ġ", "\""]]
    for m in merges { vocab[m[0] + m[1]] = vocab.count }
    let added = ["<|end|>", "<|tool_call|>", "<|/tool_call|>"].enumerated().map { i, t in
        ["id": vocab.count + i, "content": t, "special": true] as [String: Any]
    }
    let json: [String: Any] = [
        "model": ["type": "BPE", "vocab": vocab, "merges": merges.map { $0.joined(separator: " ") }],
        "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true],
        "decoder": ["type": "ByteLevel"], "added_tokens": added,
    ]
    guard let data = try? JSONSerialization.data(withJSONObject: json) else { return nil }
    return try? Tokenizer(tokenizerJSON: data, tokenizerConfigJSON: nil)
}()

@_cdecl("fuzz_constraint_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    phikit_fuzz_main(argc, argv) { data, size in data.map { fuzzConstraint($0, size) } ?? 0 }
}
