/// One GGUF metadata value. Arrays keep their declared element type, so an empty array round-trips and a writer
/// can emit it unchanged.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    /// Element type and elements; every element has the element type (the reader guarantees it, the writer checks).
    case array(GGUFValueType, [GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// "uint32", "string", "array of int32", ... for messages.
    public var typeName: String {
        if case .array(let t, _) = self { return "array of \(t)" }
        return type.description
    }

    /// The value of any integer type, when it fits in `Int`.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(exactly: v)
        default: return nil
        }
    }

    /// The value of a float type, or of an integer type converted to floating point.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        case .uint64(let v): return Double(v)
        case .int64(let v): return Double(v)
        default: return intValue.map(Double.init)
        }
    }

    public var isInteger: Bool {
        switch self {
        case .uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64: return true
        default: return false
        }
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(_, let a) = self { return a }
        return nil
    }

    /// A short rendering for error messages (strings truncated, arrays elided).
    var rendered: String {
        switch self {
        case .string(let s):
            let head = s.prefix(40)
            return "\"\(head)\(head.count < s.count ? "..." : "")\""
        case .array(let t, let a): return "[\(a.count) × \(t)]"
        case .bool(let b): return b ? "true" : "false"
        case .float32(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .uint64(let v): return "\(v)"
        case .int64(let v): return "\(v)"
        default: return intValue.map(String.init) ?? typeName
        }
    }
}
