extension ToolCallStreamParser {
    /// Scans one call object `{…}` a scalar at a time: its top-level keys, the `name` string, and the raw text
    /// of the `arguments` (or `parameters`) value. Nested values are skipped with string-aware bracket depth.
    struct ObjectScan {
        enum Result { case more, complete, failed(String) }
        private enum Phase { case open, key, inKey, colon, value, inString, inContainer, inScalar, afterValue, inFunction }

        /// The object's text so far.
        var text = ""
        var name: String?
        /// Raw text of the arguments value (for the string form, the string literal).
        var arguments = ""
        /// Arguments text not yet emitted (object and scalar forms only; the string form is settled at the end).
        var unsent = ""
        var hasArguments = false
        var argumentsAreString = false
        /// Set when `started` was emitted.
        var id: String?

        private var phase = Phase.open
        private var key = ""            // the key's literal, quotes included
        private var currentKey = ""
        private var value = ""          // the current value's text
        private var collecting = false  // the current value is the arguments
        private var depth = 0
        private var inString = false
        private var escaped = false
        /// OpenAI's shape, `{"type": "function", "function": {"name": …, "arguments": …}}`: the inner object
        /// (an array as the box a recursive struct needs).
        private var function: [ObjectScan] = []

        mutating func step(_ c: Unicode.Scalar) -> Result {
            text.unicodeScalars.append(c)
            let space = c == " " || c == "\n" || c == "\t" || c == "\r"
            switch phase {
            case .open:
                guard c == "{" else { return .failed("expected {") }
                phase = .key
            case .key:
                if space { return .more }
                if c == "}" { return .complete }
                guard c == "\"" else { return .failed("expected a key") }
                key = "\""
                escaped = false
                phase = .inKey
            case .inKey:
                key.unicodeScalars.append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" {
                    currentKey = ToolJSON.string(literal: key) ?? ""
                    phase = .colon
                }
            case .colon:
                if space { return .more }
                guard c == ":" else { return .failed("expected :") }
                phase = .value
            case .value:
                if space { return .more }
                if c == "{", currentKey == "function", name == nil, !hasArguments, function.isEmpty {
                    function = [ObjectScan()]
                    phase = .inFunction
                    return stepFunction(c)
                }
                collecting = !hasArguments && (currentKey == "arguments" || currentKey == "parameters")
                if collecting { hasArguments = true }
                value = ""
                switch c {
                case "\"":
                    phase = .inString
                    escaped = false
                    if collecting { argumentsAreString = true }
                case "{", "[":
                    phase = .inContainer
                    depth = 1
                    inString = false
                case "-", "0"..."9", "t", "f", "n":
                    phase = .inScalar
                default:
                    return .failed("expected a value")
                }
                append(c)
            case .inString:
                append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { endValue() }
            case .inContainer:
                append(c)
                if inString {
                    if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                } else if c == "\"" {
                    inString = true
                    escaped = false
                } else if c == "{" || c == "[" {
                    depth += 1
                } else if c == "}" || c == "]" {
                    depth -= 1
                    if depth == 0 { endValue() }
                }
            case .inScalar:
                if space || c == "," || c == "}" {
                    endValue()
                    return afterValue(c, space: space)
                }
                append(c)
            case .afterValue:
                return afterValue(c, space: space)
            case .inFunction:
                return stepFunction(c)
            }
            return .more
        }

        /// Feeds the inner `function` object and takes its name and arguments as this call's.
        private mutating func stepFunction(_ c: Unicode.Scalar) -> Result {
            var inner = function[0]
            let result = inner.step(c)
            if name == nil { name = inner.name }
            arguments += inner.unsent
            unsent += inner.unsent
            inner.unsent = ""
            hasArguments = inner.hasArguments
            argumentsAreString = inner.argumentsAreString
            if argumentsAreString { arguments = inner.arguments }
            function[0] = inner
            switch result {
            case .more: return .more
            case .failed(let reason): return .failed(reason)
            case .complete:
                phase = .afterValue
                return .more
            }
        }

        private mutating func afterValue(_ c: Unicode.Scalar, space: Bool) -> Result {
            if space { return .more }
            if c == "," { phase = .key; return .more }
            if c == "}" { return .complete }
            return .failed("expected , or }")
        }

        private mutating func append(_ c: Unicode.Scalar) {
            value.unicodeScalars.append(c)
            guard collecting else { return }
            arguments.unicodeScalars.append(c)
            if !argumentsAreString { unsent.unicodeScalars.append(c) }
        }

        private mutating func endValue() {
            if currentKey == "name", name == nil, value.hasPrefix("\"") { name = ToolJSON.string(literal: value) }
            collecting = false
            phase = .afterValue
        }
    }
}
