import Foundation
import PhiJSON

extension CodingUserInfoKey {
    /// The path of the file being decoded, for errors thrown from inside `init(from:)`.
    static let configFile = CodingUserInfoKey(rawValue: "PhiModels.configFile")!
}

extension Decoder {
    /// The file being decoded (`decodeConfig` sets it), for error messages.
    var configFile: String { userInfo[.configFile] as? String ?? "config.json" }
}

/// Decodes a config file with PhiJSON's strict parser and number rules; decoding errors become
/// `ModelError.malformedConfig` naming the file and the field (`'rope_scaling.long_factor[3]': expected a number…`).
func decodeConfig<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws -> T {
    var decoder = PhiJSONDecoder()
    decoder.userInfo[.configFile] = file
    do {
        return try decoder.decode(type, from: data)
    } catch let error as DecodingError {
        throw ModelError.malformedConfig(file: file, reason: PhiJSONDecoder.message(for: error))
    }
}

/// The same for a config assembled in memory (GGUF metadata translated to HF keys).
func decodeConfig<T: Decodable>(_ type: T.Type, from dictionary: [String: Any], file: String) throws -> T {
    guard let value = JSONValue(foundationValue: dictionary) else {
        throw ModelError.malformedConfig(file: file, reason: "holds a value that is not JSON")
    }
    var decoder = PhiJSONDecoder()
    decoder.userInfo[.configFile] = file
    do {
        return try decoder.decode(type, from: value)
    } catch let error as DecodingError {
        throw ModelError.malformedConfig(file: file, reason: PhiJSONDecoder.message(for: error))
    }
}

extension KeyedDecodingContainer {
    /// An optional integer field that must be positive when given, and at most `limit` (a size no model comes
    /// near, so that the products an encoder forms from it cannot overflow).
    func decodePositiveIfPresent(_ key: Key, limit: Int = ConfigLimits.dimension) throws -> Int? {
        guard let v = try decodeIfPresent(Int.self, forKey: key) else { return nil }
        guard v > 0 else { throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "must be positive, got \(v)") }
        guard v <= limit else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "is \(v), above PhiKit's limit of \(limit)")
        }
        return v
    }
}
