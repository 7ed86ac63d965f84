import ArgumentParser
import Foundation
import PhiKit

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the token ids of a text. MODEL may hold only the tokenizer files.")

    @Option(help: "Model or tokenizer folder (tokenizer.json), a .gguf file (its vocabulary), or a hub id.")
    var model: String
    @Flag(help: "Turn special-token text such as <|user|> into its special id (default: split it like ordinary text).")
    var parseSpecial = false
    @Flag(help: "Print a JSON array of ids.")
    var json = false
    @Option(help: "Tokenize every line of FILE; print one JSON array of ids per line.")
    var jsonl: String?
    @Argument(help: "The text.")
    var text: String?

    func validate() throws {
        if (jsonl == nil) == (text == nil) { throw ValidationError("give either TEXT or --jsonl FILE") }
    }

    func run() throws {
        try runCLI {
            let tok = try ModelLoader.loadTokenizer(path: model, downloadProgress: Console.downloadProgress)
            if let path = jsonl {
                let data: Data
                do { data = try SafeFile.read(path: path, limit: 1 << 30) } catch { throw CLIError("\(error)") }
                var content = String(decoding: data, as: UTF8.self)
                if content.hasSuffix("\n") { content.removeLast() }
                var out = ""
                for line in content.split(separator: "\n", omittingEmptySubsequences: false) {
                    var l = String(line)
                    if l.hasSuffix("\r") { l.removeLast() }
                    out += "[" + tok.encode(l, parseSpecial: parseSpecial).map(String.init).joined(separator: ",") + "]\n"
                }
                Console.write(out)
                return
            }
            let ids = tok.encode(text ?? "", parseSpecial: parseSpecial)
            if json {
                Console.write("[" + ids.map(String.init).joined(separator: ",") + "]\n")
            } else {
                var out = ""
                for id in ids { out += "\(id)\t\(debugQuoted(tok.tokenString(id) ?? ""))\n" }
                Console.write(out)
            }
        }
    }

    private func debugQuoted(_ s: String) -> String {
        var r = "'"
        for ch in s.unicodeScalars {
            switch ch {
            case "\n": r += "\\n"
            case "\t": r += "\\t"
            case "\r": r += "\\r"
            case "'": r += "\\'"
            default: r.unicodeScalars.append(ch)
            }
        }
        return r + "'"
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
