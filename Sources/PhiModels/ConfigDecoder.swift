import Foundation

/// The one place config files are decoded into `Decodable` structs, with decoding errors turned into a
/// `ModelError` that names the file and the key. (Foundation's JSONDecoder for now; a strict PhiKit JSON
/// decoder with the same `decode(_:from:)` call can replace it here alone.)
enum ConfigDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw ModelError.malformedConfig(file: file, reason: reason(error))
        }
    }

    static func reason(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.isEmpty ? "the top level" : "'" + keys.map { $0.intValue.map(String.init) ?? $0.stringValue }
                .joined(separator: ".") + "'"
        }
        switch error {
        case .keyNotFound(let key, let ctx): return "missing '\(key.stringValue)' in \(path(ctx.codingPath))"
        case .typeMismatch(let type, let ctx): return "\(path(ctx.codingPath)) must be \(describe(type))"
        case .valueNotFound(let type, let ctx): return "\(path(ctx.codingPath)) must be \(describe(type)), not null"
        case .dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not valid JSON" : "\(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default: return "cannot be read (\(error))"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is String.Type: return "a string"
        default: return "\(type)"
        }
    }
}
