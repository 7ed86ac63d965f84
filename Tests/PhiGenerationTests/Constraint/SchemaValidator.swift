import Foundation

/// An independent JSON parser and JSON-schema validator for the tests (shares no code with PhiGeneration's
/// compiler: it checks finished documents against the schema's meaning, patterns via NSRegularExpression).
indirect enum TJSON: Equatable {
    case null, bool(Bool), num(Double, isInt: Bool), str(String), arr([TJSON]), obj([(String, TJSON)])

    static func == (a: TJSON, b: TJSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.num(let x, _), .num(let y, _)): return x == y
        case (.str(let x), .str(let y)): return x == y
        case (.arr(let x), .arr(let y)): return x == y
        case (.obj(let x), .obj(let y)):
            return x.count == y.count && x.allSatisfy { kv in y.contains { $0.0 == kv.0 && $0.1 == kv.1 } }
        default: return false
        }
    }

    subscript(_ k: String) -> TJSON? { if case .obj(let m) = self { return m.last { $0.0 == k }?.1 }; return nil }

    /// Foundation's JSONSerialization decides validity (strict JSON); a small reader here builds the tree (Foundation
    /// on Linux does not tell booleans from the numbers 0 and 1).
    static func parse(_ text: String) -> TJSON? {
        guard let data = text.data(using: .utf8),
              (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) != nil else { return nil }
        var r = Reader(b: Array(text.utf8))
        let v = r.value()
        r.ws()
        return r.i == r.b.count ? v : nil
    }

    private struct Reader {
        let b: [UInt8]
        var i = 0
        mutating func ws() { while i < b.count, [0x20, 0x0A, 0x0D, 0x09].contains(b[i]) { i += 1 } }
        mutating func value() -> TJSON? {
            ws()
            guard i < b.count else { return nil }
            switch b[i] {
            case UInt8(ascii: "{"):
                i += 1; var m: [(String, TJSON)] = []
                ws(); if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; return .obj(m) }
                while true {
                    ws(); guard case .str(let k)? = value() else { return nil }
                    ws(); guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }; i += 1
                    guard let v = value() else { return nil }; m.append((k, v))
                    ws(); guard i < b.count else { return nil }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "}") { i += 1; return .obj(m) }
                    return nil
                }
            case UInt8(ascii: "["):
                i += 1; var a: [TJSON] = []
                ws(); if i < b.count, b[i] == UInt8(ascii: "]") { i += 1; return .arr(a) }
                while true {
                    guard let v = value() else { return nil }; a.append(v)
                    ws(); guard i < b.count else { return nil }
                    if b[i] == UInt8(ascii: ",") { i += 1; continue }
                    if b[i] == UInt8(ascii: "]") { i += 1; return .arr(a) }
                    return nil
                }
            case UInt8(ascii: "\""):
                // Decode through Foundation: the string token's text is itself a JSON document.
                let s = i; i += 1
                while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                i += 1
                let tok = String(decoding: b[s..<min(i, b.count)], as: UTF8.self)
                guard let d = tok.data(using: .utf8),
                      let str = try? JSONSerialization.jsonObject(with: d, options: [.fragmentsAllowed]) as? String else { return nil }
                return .str(str)
            case UInt8(ascii: "t"): i += 4; return .bool(true)
            case UInt8(ascii: "f"): i += 5; return .bool(false)
            case UInt8(ascii: "n"): i += 4; return .null
            default:
                let s = i
                while i < b.count, "+-0123456789.eE".utf8.contains(b[i]) { i += 1 }
                let t = String(decoding: b[s..<i], as: UTF8.self)
                guard let d = Double(t) else { return nil }
                return .num(d, isInt: !t.contains(".") && !t.contains("e") && !t.contains("E"))
            }
        }
    }
}

struct SchemaValidator {
    let root: TJSON

    /// nil if valid, else why not.
    func check(_ v: TJSON, _ s: TJSON, path: String = "$") -> String? {
        if case .bool(let b) = s { return b ? nil : "\(path): false schema" }
        if let ref = s["$ref"], case .str(let r) = ref {
            var node = root
            for part in r.dropFirst(2).split(separator: "/") where !r.dropFirst(2).isEmpty {
                guard let n = node[String(part)] else { return "\(path): bad ref \(r)" }
                node = n
            }
            return check(v, node, path: path)
        }
        if let any = s["anyOf"] ?? s["oneOf"], case .arr(let branches) = any {
            let ok = branches.filter { check(v, $0, path: path) == nil }.count
            if s["oneOf"] != nil { return ok == 1 ? nil : "\(path): \(ok) oneOf branches match" }
            return ok > 0 ? nil : "\(path): no anyOf branch matches"
        }
        if let c = s["const"] { return v == c ? nil : "\(path): not the const" }
        if let e = s["enum"], case .arr(let values) = e { return values.contains(v) ? nil : "\(path): not in enum" }
        var types: [String] = []
        if case .str(let t)? = s["type"] { types = [t] }
        if case .arr(let ts)? = s["type"] { types = ts.compactMap { if case .str(let x) = $0 { return x }; return nil } }
        if types.isEmpty { return nil }
        var reasons: [String] = []
        for t in types {
            if let r = checkType(v, t, s, path: path) { reasons.append(r) } else { return nil }
        }
        return reasons.joined(separator: "; ")
    }

    private func num(_ s: TJSON, _ k: String) -> Double? { if case .num(let d, _)? = s[k] { return d }; return nil }

    /// minimum / maximum / exclusiveMinimum / exclusiveMaximum (numbers, or draft 4's booleans beside min/max).
    private func bounds(_ d: Double, _ s: TJSON, path: String) -> String? {
        let exLow: Bool, exHigh: Bool
        if case .bool(let b)? = s["exclusiveMinimum"] { exLow = b } else { exLow = false }
        if case .bool(let b)? = s["exclusiveMaximum"] { exHigh = b } else { exHigh = false }
        if let m = num(s, "minimum"), exLow ? !(d > m) : !(d >= m) { return "\(path): \(d) below minimum \(m)" }
        if let m = num(s, "maximum"), exHigh ? !(d < m) : !(d <= m) { return "\(path): \(d) above maximum \(m)" }
        if let m = num(s, "exclusiveMinimum"), !(d > m) { return "\(path): \(d) not above \(m)" }
        if let m = num(s, "exclusiveMaximum"), !(d < m) { return "\(path): \(d) not below \(m)" }
        return nil
    }

    private func int(_ s: TJSON, _ k: String) -> Int? { if case .num(let d, _)? = s[k] { return Int(d) }; return nil }

    private func checkType(_ v: TJSON, _ t: String, _ s: TJSON, path: String) -> String? {
        switch (t, v) {
        case ("null", .null), ("boolean", .bool): return nil
        case ("number", .num(let d, _)): return bounds(d, s, path: path)
        case ("integer", .num(let d, let isInt)): return isInt && d == d.rounded() ? bounds(d, s, path: path) : "\(path): not an integer"
        case ("string", .str(let str)):
            let n = str.unicodeScalars.count
            if let lo = int(s, "minLength"), n < lo { return "\(path): shorter than \(lo)" }
            if let hi = int(s, "maxLength"), n > hi { return "\(path): longer than \(hi)" }
            if case .str(let p)? = s["pattern"] {
                guard let re = try? NSRegularExpression(pattern: p),
                      re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) != nil else { return "\(path): pattern \(p)" }
            }
            if case .str(let f)? = s["format"] {
                let res: [String: String] = [
                    "date": #"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"#,
                    "date-time": #"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"#,
                ]
                if f == "uuid" { return UUID(uuidString: str) != nil ? nil : "\(path): not a uuid" }
                if let r = res[f], let re = try? NSRegularExpression(pattern: r),
                   re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil { return "\(path): not a \(f)" }
            }
            return nil
        case ("array", .arr(let xs)):
            if let lo = int(s, "minItems"), xs.count < lo { return "\(path): fewer than \(lo) items" }
            if let hi = int(s, "maxItems"), xs.count > hi { return "\(path): more than \(hi) items" }
            if let items = s["items"] {
                for (i, x) in xs.enumerated() { if let r = check(x, items, path: "\(path)[\(i)]") { return r } }
            }
            return nil
        case ("object", .obj(let members)):
            let props: [(String, TJSON)]
            if case .obj(let p)? = s["properties"] { props = p } else { props = [] }
            if case .arr(let req)? = s["required"] {
                for case .str(let k) in req where !members.contains(where: { $0.0 == k }) { return "\(path): missing \(k)" }
            }
            let extraOK: Bool
            if case .bool(let b)? = s["additionalProperties"] { extraOK = b } else { extraOK = props.isEmpty }
            var seen = Set<String>()
            for (k, x) in members {
                guard seen.insert(k).inserted else { return "\(path): duplicate key \(k)" }
                if let sub = props.first(where: { $0.0 == k })?.1 {
                    if let r = check(x, sub, path: "\(path).\(k)") { return r }
                } else if !extraOK {
                    return "\(path): unexpected key \(k)"
                }
            }
            return nil
        default: return "\(path): not a \(t)"
        }
    }
}
