/// The grammar of a Phi-4-mini tool call:
/// `<|tool_call|>[{"name": "<tool>", "arguments": <arguments>}, …]<|/tool_call|>`: one or more calls of declared
/// tools (parallel calls), or exactly one call of `name` when it is given; the arguments fit that tool's
/// `parameters`.
///
/// Tools may be OpenAI-style (`{"type": "function", "function": {"name", "parameters"}}`) or Phi-style
/// (`{"name", "description", "parameters"}`). `parameters` is a JSON schema when it has `"type": "object"` (or
/// `properties`); otherwise it is Phi-4-mini's documented map of parameter name to `{"type": "str", "default": …}`
/// (Python type names; a parameter without `default` is required).
enum ToolCallGrammar {
    static func grammar(tools text: String, name: String?, vocabulary v: PhiTokenizerVocabulary) throws -> Grammar {
        guard let open = v.addedTokenIDs["<|tool_call|>"] else { throw ConstraintError.missingToken("<|tool_call|>") }
        guard let close = v.addedTokenIDs["<|/tool_call|>"] else { throw ConstraintError.missingToken("<|/tool_call|>") }
        let tools: JSONValue
        do { tools = try JSONValue.parse(text) } catch let e as ConstraintError {
            if case .invalid(let p, let m) = e { throw ConstraintError.invalid(path: "tools \(p)", message: m) }
            throw e
        }
        guard case .array(let list) = tools else { throw ConstraintError.invalid(path: "tools", message: "expected a JSON list of tools") }
        var declared: [(String, JSONValue, String)] = []  // name, parameters schema, path
        for (i, t) in list.enumerated() {
            var fn = t
            var path = "tools/\(i)"
            if let f = t["function"] { fn = f; path += "/function" }
            guard let n = fn["name"]?.stringValue else { throw ConstraintError.invalid(path: path, message: "a tool needs a string name") }
            declared.append((n, try parametersSchema(fn["parameters"], path: path + "/parameters"), path + "/parameters"))
        }
        if let name {
            declared = declared.filter { $0.0 == name }
            guard !declared.isEmpty else { throw ConstraintError.unsatisfiable(path: "tools", reason: "no tool is named '\(name)'") }
        }
        guard !declared.isEmpty else { throw ConstraintError.unsatisfiable(path: "tools", reason: "the tool list is empty") }
        var c = JSONSchemaCompiler(root: tools)
        let start = c.grammar.add("root")
        let ws = JSONSchemaCompiler.ws
        var alts: [GExpr] = []
        for (n, schema, path) in declared {
            let c2 = try c.compileDocument(schema, path: path)
            alts.append(.seq([.literal(JSONValue.quote(n)), .literal(","), JSONSchemaCompiler.sp, .literal("\"arguments\""), .literal(":"), JSONSchemaCompiler.sp, c2]))
        }
        let call = GExpr.seq([.literal("{"), ws, .literal("\"name\""), .literal(":"), JSONSchemaCompiler.sp, .alt(alts), ws, .literal("}")])
        c.grammar.rules[start] = .seq([
            .token(open), .literal("["), ws, call, name == nil ? .star(.seq([.literal(","), JSONSchemaCompiler.sp, call])) : .empty,
            ws, .literal("]"), .token(close),
        ])
        return c.grammar
    }

    /// The parameters as a JSON schema (Phi-style maps converted).
    static func parametersSchema(_ p: JSONValue?, path: String) throws -> JSONValue {
        guard let p else { return .object([("type", .string("object")), ("additionalProperties", .bool(false))]) }
        guard case .object(let members) = p else { throw ConstraintError.invalid(path: path, message: "must be an object") }
        if p["type"] != nil || p["properties"] != nil || p["$ref"] != nil || p["anyOf"] != nil { return p }
        var props: [(String, JSONValue)] = []
        var required: [JSONValue] = []
        for (name, spec) in members {
            var schema: [(String, JSONValue)] = []
            let typeName = spec["type"]?.stringValue ?? "str"
            let mapped: [String: String] = ["str": "string", "string": "string", "int": "integer", "integer": "integer",
                                            "float": "number", "number": "number", "bool": "boolean", "boolean": "boolean",
                                            "list": "array", "array": "array", "dict": "object", "object": "object"]
            guard let t = mapped[typeName.lowercased()] else {
                throw ConstraintError.unsupported(feature: "parameter type \(typeName)", path: "\(path)/\(name)/type")
            }
            schema.append(("type", .string(t)))
            if let e = spec["enum"] { schema.append(("enum", e)) }
            props.append((name, .object(schema)))
            if spec["default"] == nil { required.append(.string(name)) }
        }
        return .object([("type", .string("object")), ("properties", .object(props)), ("required", .array(required)),
                        ("additionalProperties", .bool(false))])
    }
}

typealias PhiTokenizerVocabulary = TokenVocabulary

import PhiTokenizer
