import Foundation
import PhiJSON

/// Typed, checked reads from a decoded JSON object; every wrong type or range is a 400 naming the field.
struct JSONFields {
    let object: [String: Any]
    /// Path of this object in the request, for error messages ("messages[2].content").
    let path: String

    init(_ object: [String: Any], path: String = "") {
        self.object = object
        self.path = path
    }

    /// Parses a request body: a JSON object, or a 400.
    static func parse(_ data: Data) throws -> JSONFields {
        guard !data.isEmpty else { throw APIError.invalid("the request body is empty; send a JSON object") }
        let value: Any
        do {
            // PhiJSON's strict parser (Swift-native values: a number is never taken for a boolean, nor the reverse;
            // duplicate keys, invalid UTF-8 and nesting deeper than 128 are errors).
            value = try FoundationJSON.parse(data)
        } catch {
            throw APIError.invalid("the request body is not valid JSON (\(error))", code: "invalid_json")
        }
        guard let obj = value as? [String: Any] else { throw APIError.invalid("the request body must be a JSON object") }
        return JSONFields(obj)
    }

    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? "malformed"
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    func wrongType(_ key: String, _ expected: String) -> APIError {
        APIError.invalid("'\(name(key))' must be \(expected)", param: name(key))
    }

    func string(_ key: String) throws -> String? {
        guard has(key) else { return nil }
        guard let s = object[key] as? String else { throw wrongType(key, "a string") }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard has(key) else { return nil }
        guard let b = object[key] as? Bool else { throw wrongType(key, "a boolean") }
        return b
    }

    func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard has(key) else { return nil }
        guard let d = Self.number(object[key]) else { throw wrongType(key, "a number") }
        guard d.isFinite, range.contains(d) else {
            throw APIError.invalid("'\(name(key))' must be between \(Self.show(range.lowerBound)) and \(Self.show(range.upperBound))",
                                   param: name(key))
        }
        return d
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard has(key) else { return nil }
        guard let d = Self.number(object[key]) else { throw wrongType(key, "an integer") }
        // Int(exactly:) rather than Int(d): 2^63 (what Int64.max becomes as a Double) must be a 400, not a trap.
        guard let i = (object[key] as? Int) ?? Int(exactly: d), range.contains(i) else {
            throw APIError.invalid("'\(name(key))' must be an integer between \(range.lowerBound) and \(range.upperBound)",
                                   param: name(key))
        }
        return i
    }

    func object(_ key: String) throws -> JSONFields? {
        guard has(key) else { return nil }
        guard let o = object[key] as? [String: Any] else { throw wrongType(key, "an object") }
        return JSONFields(o, path: name(key))
    }

    func array(_ key: String) throws -> [Any]? {
        guard has(key) else { return nil }
        guard let a = object[key] as? [Any] else { throw wrongType(key, "an array") }
        return a
    }

    /// Elements of an array of objects, each with its path.
    func objects(_ key: String) throws -> [JSONFields]? {
        guard let a = try array(key) else { return nil }
        return try a.enumerated().map { i, v in
            guard let o = v as? [String: Any] else {
                throw APIError.invalid("'\(name(key))[\(i)]' must be an object", param: "\(name(key))[\(i)]")
            }
            return JSONFields(o, path: "\(name(key))[\(i)]")
        }
    }

    /// A JSON number's value (PhiJSON gives integers as Int, other numbers as Double; booleans are neither).
    static func number(_ v: Any?) -> Double? {
        if let i = v as? Int { return Double(i) }
        return v as? Double
    }

    static func show(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }
}
