/// The scalar types a JSON value decodes to, each with the one rule that reads it (see `PhiJSONDecoder`).
protocol JSONScalar {
    static func unbox(_ value: JSONValue, path: [CodingKey]) throws -> Self
}

extension JSONScalar {
    static func mismatch(_ expected: String, _ value: JSONValue, _ path: [CodingKey]) -> DecodingError {
        .typeMismatch(Self.self, .init(codingPath: path, debugDescription: "expected \(expected), found \(value.shortDescription)"))
    }
}

extension Bool: JSONScalar {
    static func unbox(_ value: JSONValue, path: [CodingKey]) throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch("true or false", value, path) }
        return b
    }
}

extension String: JSONScalar {
    static func unbox(_ value: JSONValue, path: [CodingKey]) throws -> String {
        guard case .string(let s) = value else { throw mismatch("a string", value, path) }
        return s
    }
}

extension Double: JSONScalar {
    static func unbox(_ value: JSONValue, path: [CodingKey]) throws -> Double {
        guard case .number(let text) = value else { throw mismatch("a number", value, path) }
        guard let d = Double(text), d.isFinite else {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(value.shortDescription) is out of range for a 64-bit float"))
        }
        return d
    }
}

extension Float: JSONScalar {
    static func unbox(_ value: JSONValue, path: [CodingKey]) throws -> Float {
        // Through Double, as Python reads the file and torch then rounds to float32.
        let f = Float(try Double.unbox(value, path: path))
        guard f.isFinite else {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(value.shortDescription) is out of range for a 32-bit float"))
        }
        return f
    }
}

extension JSONScalar where Self: FixedWidthInteger {
    static func unbox(_ value: JSONValue, path: [CodingKey]) throws -> Self {
        guard case .number(let text) = value else { throw mismatch("an integer", value, path) }
        if let v = JSONNumber.exactInteger(text, as: Self.self) { return v }
        let integral = Double(text).map { $0 == $0.rounded() } ?? false
        let reason = integral ? "is out of range for \(Self.self)" : "is not an integer"
        throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(value.shortDescription) \(reason)"))
    }
}

extension Int: JSONScalar {}
extension Int8: JSONScalar {}
extension Int16: JSONScalar {}
extension Int32: JSONScalar {}
extension Int64: JSONScalar {}
extension UInt: JSONScalar {}
extension UInt8: JSONScalar {}
extension UInt16: JSONScalar {}
extension UInt32: JSONScalar {}
extension UInt64: JSONScalar {}
