/// JSON schema to grammar. The supported subset is what OpenAI's structured outputs (`strict: true`) document:
///
/// - `type` (one or a list) of object, array, string, number, integer, boolean, null; a schema without `type`
///   is typed by its keywords (`properties` → object, `items` → array), and `{}` / `true` is any JSON value.
/// - objects: `properties` (written in schema order), `required` (others may be left out), `additionalProperties`
///   false or absent (no other keys), or true / a schema only when there are no `properties` (any keys).
/// - arrays: `items`, `minItems`, `maxItems`.
/// - strings: `minLength`, `maxLength`, `pattern` (a search, as JSON schema defines it; see `RegexParser`),
///   `format` date-time, date, time, uuid, email, ipv4, hostname.
/// - numbers and integers: `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (also draft 4's boolean
///   form), exact (see `NumericRange`): any finite bound for integers, whole-number bounds for numbers.
/// - `enum`, `const`, `anyOf` (and `oneOf`, generated as `anyOf`: the branches are meant to be disjoint),
///   `allOf` with one schema, `$ref` to `#`, `#/$defs/…` or `#/definitions/…` (recursion included).
/// - annotations (`title`, `description`, `default`, `examples`, …) are ignored.
///
/// Anything else (`multipleOf`, fractional bounds on a number, `patternProperties`, `uniqueItems: true`, `not`, …) is a
/// `ConstraintError.unsupported` naming the keyword and its JSON pointer, before generation starts.
///
/// Whitespace: one-line JSON as models write it for tools and extraction: an optional single space after `:` and
/// `,`, none elsewhere (no leading or trailing whitespace, no newlines). Bounded whitespace keeps a model from
/// looping on spaces or newlines, and keeps outputs short. Numbers: at most 16 integer and 16 fraction
/// digits and a 2-digit exponent, so every output decodes to a finite Double (and integers to an Int64).
struct JSONSchemaCompiler {
    var grammar = Grammar()
    private var root: JSONValue
    private var refPrefix = ""
    private var refRules: [String: Int] = [:]
    private var anyValueRule: Int? = nil

    static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly",
        "writeOnly", "$defs", "definitions", "strict", "name", "$anchor", "contentMediaType", "contentEncoding",
    ]

    init(root: JSONValue) {
        self.root = root
    }

    /// The grammar for a whole schema text.
    static func grammar(schema text: String) throws -> Grammar {
        let schema: JSONValue
        do { schema = try JSONValue.parse(text) } catch let e as ConstraintError {
            if case .invalid(let p, let m) = e { throw ConstraintError.invalid(path: "schema \(p)", message: m) }
            throw e
        }
        var c = JSONSchemaCompiler(root: schema)
        let start = c.grammar.add("root")
        c.grammar.rules[start] = try c.compile(schema, path: "#")
        return c.grammar
    }

    /// Any JSON object.
    static func anyObjectGrammar() -> Grammar {
        var c = JSONSchemaCompiler(root: .object([]))
        let start = c.grammar.add("root")
        c.grammar.rules[start] = c.anyObject()
        return c.grammar
    }

    /// Inside brackets: nothing (`{"a"`, `[1`, `1]`).
    static let ws: GExpr = .empty
    /// After `:` and `,`: nothing or one space, as models write one-line JSON (`{"a": 1, "b": 2}`).
    static let sp: GExpr = .opt(.literal(" "))

    static let stringChar: GExpr = {
        let plain = UTF8Ranges.expr(UTF8Ranges.complement([0...0x1F, 0x22...0x22, 0x5C...0x5C]))
        let hex = GExpr.oneOf("0123456789abcdefABCDEF")
        let escape = GExpr.seq([.literal("\\"), .alt([.oneOf("\"\\/bfnrt"), .seq([.literal("u"), hex, hex, hex, hex])])])
        return .alt([plain, escape])
    }()

    /// Numbers are limited so every output fits the usual decoders: integers to 16 digits (exact in a Double and
    /// an Int64), fractions to 16 digits, exponents to 2 digits (Foundation rejects 1e400 as invalid JSON).
    static let integer: GExpr = .seq([.opt(.literal("-")), .alt([.literal("0"), .seq([.byte(ByteSet(0x31...0x39)), .rep(digit, min: 0, max: 15)])])])
    static let digit: GExpr = .byte(ByteSet(0x30...0x39))
    static let number: GExpr = .seq([
        integer,
        .opt(.seq([.literal("."), .rep(digit, min: 1, max: 16)])),
        .opt(.seq([.oneOf("eE"), .opt(.oneOf("+-")), .rep(digit, min: 1, max: 2)])),
    ])

    static func quoted(_ body: GExpr) -> GExpr { .seq([.literal("\""), body, .literal("\"")]) }
    static let anyString: GExpr = quoted(.star(stringChar))

    private func fail(_ feature: String, _ path: String) -> ConstraintError { .unsupported(feature: feature, path: path) }

    /// Any JSON value. Objects and arrays are the recursive rules (created once); scalars are inlined where a value
    /// goes, so a rule only ever ends at `}` or `]` and few tokens cross a rule boundary (cheap masks).
    mutating func anyValue() -> GExpr {
        let (obj, arr): (Int, Int)
        if let r = anyValueRule {
            (obj, arr) = (r, r + 1)
        } else {
            obj = grammar.add("json_object")
            arr = grammar.add("json_array")
            anyValueRule = obj
            let value = GExpr.alt([.rule(obj), .rule(arr), Self.anyString, Self.number, .literal("true"), .literal("false"), .literal("null")])
            let member = GExpr.seq([Self.anyString, .literal(":"), JSONSchemaCompiler.sp, value])
            let more = GExpr.seq([.literal(","), JSONSchemaCompiler.sp])
            grammar.rules[obj] = .seq([.literal("{"), .opt(.seq([member, .star(.seq([more, member]))])), .literal("}")])
            grammar.rules[arr] = .seq([.literal("["), .opt(.seq([value, .star(.seq([more, value]))])), .literal("]")])
        }
        return .alt([.rule(obj), .rule(arr), Self.anyString, Self.number, .literal("true"), .literal("false"), .literal("null")])
    }

    mutating func anyObject() -> GExpr {
        _ = anyValue()
        return .rule(anyValueRule ?? 0)
    }

    /// Compiles a schema that is its own document (`$ref: "#/…"` resolves inside it), e.g. a tool's parameters.
    mutating func compileDocument(_ schema: JSONValue, path: String) throws -> GExpr {
        let (savedRoot, savedPrefix) = (root, refPrefix)
        root = schema
        refPrefix = path
        defer { (root, refPrefix) = (savedRoot, savedPrefix) }
        return try compile(schema, path: path)
    }

    mutating func compile(_ schema: JSONValue, path: String) throws -> GExpr {
        switch schema {
        case .bool(true): return anyValue()
        case .bool(false): throw ConstraintError.unsatisfiable(path: path, reason: "the schema is false")
        case .object: break
        default: throw ConstraintError.invalid(path: path, message: "a schema must be an object or a boolean")
        }
        guard case .object(let members) = schema else { return .never }
        let keys = Set(members.map(\.0))
        if let ref = schema["$ref"] {
            guard case .string(let target) = ref else { throw ConstraintError.invalid(path: path + "/$ref", message: "must be a string") }
            let others = keys.subtracting(Self.annotations).subtracting(["$ref"])
            if let k = others.sorted().first { throw fail("\(k) beside $ref", path) }
            return try reference(target, path: path + "/$ref")
        }
        for combinator in ["anyOf", "oneOf"] {
            guard let v = schema[combinator] else { continue }
            guard case .array(let branches) = v else { throw ConstraintError.invalid(path: path + "/" + combinator, message: "must be a list") }
            let others = keys.subtracting(Self.annotations).subtracting([combinator])
            if let k = others.sorted().first { throw fail("\(k) beside \(combinator)", path) }
            guard !branches.isEmpty else { throw ConstraintError.unsatisfiable(path: path + "/" + combinator, reason: "no branches") }
            var alts: [GExpr] = []
            for (i, b) in branches.enumerated() { alts.append(try compile(b, path: "\(path)/\(combinator)/\(i)")) }
            return .alt(alts)
        }
        if let v = schema["allOf"] {
            guard case .array(let parts) = v, parts.count == 1, keys.subtracting(Self.annotations).count == 1 else {
                throw fail("allOf (only a single schema is supported)", path + "/allOf")
            }
            return try compile(parts[0], path: path + "/allOf/0")
        }
        if let c = schema["const"] { return .literal(c.serialized) }
        if let e = schema["enum"] {
            guard case .array(let values) = e else { throw ConstraintError.invalid(path: path + "/enum", message: "must be a list") }
            guard !values.isEmpty else { throw ConstraintError.unsatisfiable(path: path + "/enum", reason: "the list is empty") }
            return .alt(values.map { .literal($0.serialized) })
        }
        var types: [String] = []
        switch schema["type"] {
        case .string(let t)?: types = [t]
        case .array(let ts)?:
            for t in ts {
                guard case .string(let s) = t else { throw ConstraintError.invalid(path: path + "/type", message: "must hold strings") }
                types.append(s)
            }
            guard !types.isEmpty else { throw ConstraintError.unsatisfiable(path: path + "/type", reason: "no types") }
        case nil:
            if keys.contains("properties") || keys.contains("additionalProperties") || keys.contains("required") {
                types = ["object"]
            } else if keys.contains("items") || keys.contains("minItems") || keys.contains("maxItems") {
                types = ["array"]
            } else if keys.contains("pattern") || keys.contains("format") || keys.contains("minLength") || keys.contains("maxLength") {
                types = ["string"]
            } else if !keys.isDisjoint(with: Self.rangeKeywords) {
                types = ["number"]
            } else {
                if let k = keys.subtracting(Self.annotations).sorted().first { throw fail(k, path) }
                return anyValue()
            }
        default: throw ConstraintError.invalid(path: path + "/type", message: "must be a string or a list")
        }
        var alts: [GExpr] = []
        for t in types { alts.append(try typed(t, schema, keys: keys, path: path)) }
        return alts.count == 1 ? alts[0] : .alt(alts)
    }

    private mutating func reference(_ target: String, path: String) throws -> GExpr {
        if let r = refRules[refPrefix + target] { return .rule(r) }
        guard target.hasPrefix("#") else { throw fail("$ref to another document (\(target))", path) }
        var node = root
        let pointer = target.dropFirst()
        if !pointer.isEmpty {
            guard pointer.hasPrefix("/") else { throw fail("$ref anchor \(target)", path) }
            for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
                let key = String(raw).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                let decoded = key.removingPercentEncoding ?? key
                if case .array(let xs) = node, let i = Int(decoded), i >= 0, i < xs.count { node = xs[i]; continue }
                guard let child = node[decoded] else {
                    throw ConstraintError.invalid(path: path, message: "$ref \(target) does not resolve")
                }
                node = child
            }
        }
        let r = grammar.add("ref:" + refPrefix + target)
        refRules[refPrefix + target] = r
        grammar.rules[r] = try compile(node, path: String(target))
        return .rule(r)
    }

    static let rangeKeywords: Set<String> = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]

    private static let allowed: [String: Set<String>] = [
        "object": ["type", "properties", "required", "additionalProperties"],
        "array": ["type", "items", "minItems", "maxItems"],
        "string": ["type", "minLength", "maxLength", "pattern", "format"],
        "number": Set(["type"]).union(rangeKeywords),
        "integer": Set(["type"]).union(rangeKeywords),
        "boolean": ["type"],
        "null": ["type"],
    ]

    private mutating func typed(_ type: String, _ schema: JSONValue, keys: Set<String>, path: String) throws -> GExpr {
        guard Self.allowed[type] != nil else { throw ConstraintError.invalid(path: path + "/type", message: "unknown type \(type)") }
        // Keywords of other types are ignored (JSON schema applies them only to their own type); unknown ones are not.
        let known = Self.allowed.values.reduce(Set<String>()) { $0.union($1) }
        if let k = keys.subtracting(Self.annotations).subtracting(known).sorted().first { throw fail(k, path) }
        switch type {
        case "object": return try object(schema, path: path)
        case "array": return try array(schema, path: path)
        case "string": return try string(schema, path: path)
        case "number", "integer":
            let integer = type == "integer"
            guard let bounds = try numericRange(schema, integer: integer, path: path) else { return integer ? Self.integer : Self.number }
            guard let expr = integer ? bounds.integers() : bounds.numbers() else {
                throw ConstraintError.unsatisfiable(path: path, reason: "no \(integer ? "integer" : "number") lies within the bounds")
            }
            return expr
        case "boolean": return .alt([.literal("true"), .literal("false")])
        default: return .literal("null")
        }
    }

    /// The schema's numeric bounds (nil: none). For integers a fractional bound is rounded inward and every bound
    /// becomes inclusive; numbers keep exclusiveness and need whole-number bounds.
    private func numericRange(_ schema: JSONValue, integer: Bool, path: String) throws -> NumericRange? {
        func number(_ key: String) throws -> (String, Double)? {
            guard let v = schema[key] else { return nil }
            guard case .number(let text, let d) = v, d.isFinite else {
                throw ConstraintError.invalid(path: path + "/" + key, message: "must be a number")
            }
            return (text, d)
        }
        // draft 4: exclusiveMinimum / exclusiveMaximum are booleans that modify minimum / maximum
        func flag(_ key: String) throws -> Bool? {
            guard case .bool(let b)? = schema[key] else { return nil }
            return b
        }
        func bound(_ key: String, lower: Bool, exclusive: Bool) throws -> NumericRange.Bound? {
            guard let (text, d) = try number(key) else { return nil }
            if integer {
                // n ≥ d is n ≥ ⌈d⌉; n > d is n ≥ ⌊d⌋ + 1 (mirrored for upper bounds)
                let v = NumericRange.whole(text: text, value: d, rounding: lower ? (exclusive ? .down : .up) : (exclusive ? .up : .down))
                let bound = lower ? v + (exclusive ? 1 : 0) : v - (exclusive ? 1 : 0)
                return NumericRange.Bound(value: bound, inclusive: true)
            }
            guard d == d.rounded() else {
                throw fail("\(key) \(text) on a number (number bounds must be whole numbers; integers take any)", path + "/" + key)
            }
            return NumericRange.Bound(value: NumericRange.whole(text: text, value: d, rounding: .towardZero), inclusive: !exclusive)
        }
        func tighter(_ a: NumericRange.Bound?, _ b: NumericRange.Bound?, lower: Bool) -> NumericRange.Bound? {
            guard let a else { return b }
            guard let b else { return a }
            if a.value != b.value { return (a.value > b.value) == lower ? a : b }
            return a.inclusive ? b : a
        }
        let exclusiveLow = try flag("exclusiveMinimum"), exclusiveHigh = try flag("exclusiveMaximum")
        if exclusiveLow == true && schema["minimum"] == nil {
            throw ConstraintError.invalid(path: path + "/exclusiveMinimum", message: "true needs a minimum")
        }
        if exclusiveHigh == true && schema["maximum"] == nil {
            throw ConstraintError.invalid(path: path + "/exclusiveMaximum", message: "true needs a maximum")
        }
        let low = tighter(try bound("minimum", lower: true, exclusive: exclusiveLow ?? false),
                          exclusiveLow == nil ? try bound("exclusiveMinimum", lower: true, exclusive: true) : nil, lower: true)
        let high = tighter(try bound("maximum", lower: false, exclusive: exclusiveHigh ?? false),
                           exclusiveHigh == nil ? try bound("exclusiveMaximum", lower: false, exclusive: true) : nil, lower: false)
        if low == nil && high == nil { return nil }
        return NumericRange(lower: low, upper: high)
    }

    private func count(_ schema: JSONValue, _ key: String, path: String) throws -> Int? {
        guard let v = schema[key] else { return nil }
        guard let n = v.intValue, n >= 0 else { throw ConstraintError.invalid(path: path + "/" + key, message: "must be a non-negative integer") }
        return n
    }

    private mutating func object(_ schema: JSONValue, path: String) throws -> GExpr {
        let ws = Self.ws
        var props: [(String, JSONValue)] = []
        if let p = schema["properties"] {
            guard case .object(let m) = p else { throw ConstraintError.invalid(path: path + "/properties", message: "must be an object") }
            props = m
        }
        var required = Set<String>()
        if let r = schema["required"] {
            guard case .array(let xs) = r else { throw ConstraintError.invalid(path: path + "/required", message: "must be a list") }
            for x in xs {
                guard let s = x.stringValue else { throw ConstraintError.invalid(path: path + "/required", message: "must hold strings") }
                required.insert(s)
            }
        }
        let additional = schema["additionalProperties"]
        let extraAllowed: Bool
        switch additional {
        case nil, .bool(false)?: extraAllowed = false
        case .bool(true)?: extraAllowed = true
        case .object(let m)? where m.isEmpty: extraAllowed = true
        default: throw fail("additionalProperties with a schema", path + "/additionalProperties")
        }
        if props.isEmpty {
            if extraAllowed || additional == nil && required.isEmpty { return anyObject() }
        } else if extraAllowed {
            throw fail("additionalProperties: true beside properties", path + "/additionalProperties")
        }
        let names = Set(props.map(\.0))
        if let missing = required.subtracting(names).sorted().first {
            throw ConstraintError.unsatisfiable(path: path + "/required", reason: "required property '\(missing)' is not in properties")
        }
        var members: [(GExpr, Bool)] = []
        for (name, sub) in props {
            let value = try compile(sub, path: path + "/properties/" + name)
            members.append((.seq([.literal(JSONValue.quote(name)), .literal(":"), JSONSchemaCompiler.sp, value]), required.contains(name)))
        }
        // rest(i, first): members i... in order, optional ones skippable, commas between those written.
        let comma = GExpr.seq([.literal(","), JSONSchemaCompiler.sp])
        var restAfter: [GExpr] = [GExpr](repeating: .empty, count: members.count + 1)  // some member already written
        for i in stride(from: members.count - 1, through: 0, by: -1) {
            let item = GExpr.seq([comma, members[i].0])
            restAfter[i] = .seq([members[i].1 ? item : .opt(item), restAfter[i + 1]])
        }
        var restFirst: [GExpr] = [GExpr](repeating: .empty, count: members.count + 1)  // nothing written yet
        for i in stride(from: members.count - 1, through: 0, by: -1) {
            let take = GExpr.seq([members[i].0, restAfter[i + 1]])
            restFirst[i] = members[i].1 ? take : .alt([take, restFirst[i + 1]])
        }
        return .seq([.literal("{"), ws, restFirst[0], ws, .literal("}")])
    }

    private mutating func array(_ schema: JSONValue, path: String) throws -> GExpr {
        let ws = Self.ws
        let item: GExpr = try schema["items"].map { try compile($0, path: path + "/items") } ?? anyValue()
        let lo = try count(schema, "minItems", path: path) ?? 0
        let hi = try count(schema, "maxItems", path: path)
        if let hi, hi < lo { throw ConstraintError.unsatisfiable(path: path, reason: "maxItems \(hi) < minItems \(lo)") }
        let more = GExpr.seq([.literal(","), JSONSchemaCompiler.sp, item])
        let body: GExpr
        if hi == 0 {
            body = .empty
        } else {
            let list = GExpr.seq([item, .rep(more, min: max(lo - 1, 0), max: hi.map { $0 - 1 })])
            body = lo == 0 ? .opt(list) : list
        }
        return .seq([.literal("["), ws, body, ws, .literal("]")])
    }

    static let formats: [String: String] = [
        "date": #"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"#,
        "time": #"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"#,
        "date-time": #"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"#,
        "uuid": #"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"#,
        "email": #"[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)+"#,
        "ipv4": #"((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"#,
        "hostname": #"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*"#,
    ]

    private mutating func string(_ schema: JSONValue, path: String) throws -> GExpr {
        let lo = try count(schema, "minLength", path: path)
        let hi = try count(schema, "maxLength", path: path)
        if let lo, let hi, hi < lo { throw ConstraintError.unsatisfiable(path: path, reason: "maxLength \(hi) < minLength \(lo)") }
        var pattern: GExpr? = nil
        if let f = schema["format"] {
            guard let name = f.stringValue else { throw ConstraintError.invalid(path: path + "/format", message: "must be a string") }
            guard let regex = Self.formats[name] else { throw fail("format \(name)", path + "/format") }
            pattern = try RegexParser.parse(regex, jsonString: true, path: path + "/format")
        }
        if let p = schema["pattern"] {
            guard let text = p.stringValue else { throw ConstraintError.invalid(path: path + "/pattern", message: "must be a string") }
            if pattern != nil { throw fail("pattern beside format", path + "/pattern") }
            pattern = try RegexParser.parseSearch(text, path: path + "/pattern")
        }
        if let pattern {
            if lo != nil || hi != nil { throw fail("minLength/maxLength beside pattern or format", path) }
            return Self.quoted(pattern)
        }
        return Self.quoted(.rep(Self.stringChar, min: lo ?? 0, max: hi))
    }
}
