import Foundation

extension JSONValue {
    /// A value built from Swift values (`[String: Any]`, `[Any]`, `String`, `Bool`, integers, finite `Double`/
    /// `Float`, `NSNull`), so code that assembles a config in memory (from GGUF metadata, say) decodes it with the
    /// same rules as a file. Nil for anything else. `Bool` is tested before numbers, and numbers are written
    /// with Swift's shortest round-trip text, so values come back exactly.
    public init?(foundationValue v: Any) {
        switch v {
        case is NSNull: self = .null
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .number(String(i))
        case let i as Int32: self = .number(String(i))
        case let i as Int64: self = .number(String(i))
        case let i as UInt64: self = .number(String(i))
        case let d as Double:
            guard d.isFinite else { return nil }
            self = .number("\(d)")
        case let f as Float:
            guard f.isFinite else { return nil }
            self = .number("\(f)")
        case let s as String: self = .string(s)
        case let a as [Any]:
            var items: [JSONValue] = []
            for x in a {
                guard let j = JSONValue(foundationValue: x) else { return nil }
                items.append(j)
            }
            self = .array(items)
        case let d as [String: Any]:
            var members: [(String, JSONValue)] = []
            for key in d.keys.sorted() {
                guard let x = d[key], let j = JSONValue(foundationValue: x) else { return nil }
                members.append((key, j))
            }
            self = .object(JSONObject(members))
        default: return nil
        }
    }
}
