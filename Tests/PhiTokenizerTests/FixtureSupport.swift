import Foundation
import XCTest
@testable import PhiTokenizer

/// Fixtures written by tools/tokenizer/make_tokenizer_fixtures.py (HF tokenizers 0.23.3 references).
enum Fixtures {
    static let directory: URL = {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            preconditionFailure("PhiTokenizerTests resource folder Fixtures is missing")
        }
        return url
    }()

    /// The Phi-4-mini tokenizer, loaded once for all tests.
    static let phi: Result<Tokenizer, Error> = Result { try Tokenizer(directory: directory) }

    static func phiTokenizer() throws -> Tokenizer { try phi.get() }

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func jsonl(_ name: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: url(name))
        return try data.split(separator: UInt8(ascii: "\n")).map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw TokenizerError.invalidJSON(file: name, detail: "line is not an object")
            }
            return object
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    func ints(_ key: String) -> [Int] { (self[key] as? [Any])?.compactMap { ($0 as? NSNumber)?.intValue } ?? [] }
    func string(_ key: String) -> String { self[key] as? String ?? "" }
}

/// A short, printable description of a string for failure messages.
func show(_ s: String) -> String {
    let escaped = s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "\\u{\(String($0.value, radix: 16))}" }
        .joined()
    return escaped.count > 120 ? String(escaped.prefix(120)) + "…" : escaped
}
