import Foundation
import CFuzzMain
import FuzzSupport
import PhiKit

/// tokenizer_config.json and the chat/tool JSON of the generation side, from one input split at "\n\0\n":
/// 1. tokenizer_config.json (added_tokens_decoder, bos/eos, add_bos_token, chat_template) over a fixed small
///    tokenizer.json, then encoding a Phi chat turn with the tokens it added;
/// 2. a tool list (`ToolList(json:)`: Phi's and OpenAI's entry shapes, parameters schemas);
/// 3. model output parsed for tool calls, whole (`ToolCallParser`) and streamed in 5-character pieces
///    (`ToolCallStreamParser`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChat(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = FuzzSupport.data(data, size)
    var parts: [Data] = []
    var rest = input[...]
    while parts.count < 2, let sep = rest.range(of: Data([0x0A, 0x00, 0x0A])) {
        parts.append(Data(rest[..<sep.lowerBound]))
        rest = rest[sep.upperBound...]
    }
    parts.append(Data(rest))
    if let tok = try? Tokenizer(tokenizerJSON: baseTokenizer, tokenizerConfigJSON: parts[0]) {
        let ids = tok.encode("<|user|>Hi<|end|><|assistant|>", parseSpecial: true)
        _ = tok.decode(ids, skipSpecial: true)
        _ = tok.chatTemplate?.utf8.count
    }
    if parts.count > 1, let tools = try? ToolList(json: String(decoding: parts[1], as: UTF8.self)) {
        _ = tools.functions.first.flatMap { tools.function(named: $0.name) }
    }
    if let output = parts.last, parts.count > 2 {
        let text = String(decoding: output, as: UTF8.self)
        var counter = 0
        let makeID: () -> String = { counter += 1; return "call_\(counter)" }
        _ = ToolCallParser.parse(text, makeID: makeID)
        var stream = ToolCallStreamParser(makeID: makeID)
        var piece = ""
        for ch in text {
            piece.append(ch)
            if piece.count == 5 {
                _ = stream.feed(piece)
                piece = ""
            }
        }
        _ = stream.feed(piece)
        _ = stream.finish()
    }
    return 0
}

/// A byte-level BPE vocabulary with Phi's chat tokens, so a config's added tokens and BOS/EOS have ids to name.
private let baseTokenizer = Data(#"""
{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"H":3,"i":4,"Hi":5},"merges":["a b","H i"]},
 "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"use_regex":true},"decoder":{"type":"ByteLevel"},
 "added_tokens":[{"id":6,"content":"<|user|>","special":true,"rstrip":true},{"id":7,"content":"<|end|>","special":true,"rstrip":true},
  {"id":8,"content":"<|assistant|>","special":true,"rstrip":true},{"id":9,"content":"<|tool_call|>","special":false}]}
"""#.utf8)

@_cdecl("fuzz_chat_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    phikit_fuzz_main(argc, argv) { data, size in data.map { fuzzChat($0, size) } ?? 0 }
}
