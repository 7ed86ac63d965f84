import Foundation
import PhiTokenizer
import PhiWeights

extension ModelLoader {
    /// The tokenizer of any model form `load` takes, without building the model: a folder's tokenizer.json (the
    /// folder may hold only the tokenizer files), a .gguf file's vocabulary, or a hub id's snapshot.
    public static func loadTokenizer(path: String,
                                     downloadProgress: (@Sendable (String, Int64, Int64?) -> Void)? = nil) throws -> Tokenizer {
        switch try resolve(path: path, downloadProgress: downloadProgress) {
        case .folder(let url): return try Tokenizer(directory: url)
        case .gguf(let url): return try GGUFTokenizer.load(from: try GGUFFile(url: url))
        }
    }
}
