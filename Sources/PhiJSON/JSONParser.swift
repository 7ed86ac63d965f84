import Foundation

/// The one strict RFC 8259 JSON parser for untrusted input: safetensors headers and index files, config.json and
/// its siblings, tokenizer.json, hub indexes.
///
/// Unlike Foundation's `JSONSerialization` it
/// - rejects duplicate object keys, compared byte for byte (two readers of the same file must not disagree; the
///   policy is "reject" everywhere: no HF writer emits duplicates),
/// - rejects invalid UTF-8, lone surrogates in `\u` escapes, control characters in strings, and anything but
///   whitespace after the top-level value,
/// - keeps every string's characters, U+FEFF included (Foundation on Linux drops a U+FEFF at the start of a
///   string), and keeps numbers as text so `1`, `1.0` and `true` never mix,
/// - bounds nesting depth and input size, and reports every error with its byte offset.
///
/// A UTF-8 byte-order mark at the very start of the input is skipped unless `Limits.allowsByteOrderMark` is false
/// (editors on Windows write one into config files).
public enum JSONParser {
    public struct Limits: Sendable {
        /// Maximum nesting of arrays and objects; the parser recurses once per level.
        public var maxDepth: Int
        public var maxBytes: Int
        public var allowsByteOrderMark: Bool
        public init(maxDepth: Int = 128, maxBytes: Int = 256 << 20, allowsByteOrderMark: Bool = true) {
            self.maxDepth = maxDepth
            self.maxBytes = maxBytes
            self.allowsByteOrderMark = allowsByteOrderMark
        }
    }

    /// Parses exactly one JSON value surrounded by optional whitespace.
    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: Limits = Limits()) throws(JSONParseError) -> JSONValue {
        try run(bytes, limits: limits, builder: ValueBuilder())
    }

    public static func parse(_ bytes: [UInt8], limits: Limits = Limits()) throws(JSONParseError) -> JSONValue {
        // withUnsafeBytes is not typed-throws; carry the typed error out in a Result.
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSONValue in try parse(raw, limits: limits) }
        }
        return try result.get()
    }

    public static func parse(_ data: Data, limits: Limits = Limits()) throws(JSONParseError) -> JSONValue {
        let result = data.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) -> JSONValue in try parse(raw, limits: limits) }
        }
        return try result.get()
    }

    public static func parse(_ text: String, limits: Limits = Limits()) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }

    static func run<B: JSONTreeBuilder>(_ bytes: UnsafeRawBufferPointer, limits: Limits,
                                        builder: B) throws(JSONParseError) -> B.Value {
        guard bytes.count <= limits.maxBytes else {
            throw JSONParseError(offset: 0, message: "JSON text of \(bytes.count) bytes exceeds the limit of \(limits.maxBytes) bytes")
        }
        var scanner = JSONScanner(bytes: bytes, maxDepth: limits.maxDepth, builder: builder)
        if limits.allowsByteOrderMark, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            scanner.pos = 3
        }
        scanner.skipWhitespace()
        let value = try scanner.parseValue(depth: 0)
        scanner.skipWhitespace()
        guard scanner.atEnd else { throw scanner.fail("unexpected trailing characters after the JSON value") }
        return value
    }
}
