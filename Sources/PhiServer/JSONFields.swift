import Foundation

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
            value = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw APIError.invalid("the request body is not valid JSON (\(Self.reason(error)))", code: "invalid_json")
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
        guard let n = object[key] as? NSNumber, !(object[key] is String) else { throw wrongType(key, "a boolean") }
        return n.boolValue
    }

    func double(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
        guard has(key) else { return nil }
        guard let n = object[key] as? NSNumber, !(object[key] is String) else { throw wrongType(key, "a number") }
        let d = n.doubleValue
        guard d.isFinite, range.contains(d) else {
            throw APIError.invalid("'\(name(key))' must be between \(Self.show(range.lowerBound)) and \(Self.show(range.upperBound))",
                                   param: name(key))
        }
        return d
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard has(key) else { return nil }
        guard let n = object[key] as? NSNumber, !(object[key] is String) else { throw wrongType(key, "an integer") }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
            throw APIError.invalid("'\(name(key))' must be an integer between \(range.lowerBound) and \(range.upperBound)",
                                   param: name(key))
        }
        return Int(d)
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

    static func show(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }
}
