/// What the scanner builds values with: `JSONValue` trees, or the Foundation-style values of `FoundationJSON`.
/// Both see the same grammar, limits and checks; only the representation differs.
protocol JSONTreeBuilder {
    associatedtype Value
    func null() -> Value
    func bool(_ b: Bool) -> Value
    /// `literal` is grammar-checked; `smallInteger` is its value when it is an integer literal (no fraction, no
    /// exponent) of at most 18 digits, which cannot overflow `Int`.
    func number(_ literal: UnsafeRawBufferPointer, smallInteger: Int?, offset: Int) throws(JSONParseError) -> Value
    func string(_ s: String) -> Value
    func array(_ items: [Value]) -> Value
    func object(keys: [String], values: [Value], index: JSONKeyIndex) -> Value
}

struct ValueBuilder: JSONTreeBuilder {
    func null() -> JSONValue { .null }
    func bool(_ b: Bool) -> JSONValue { .bool(b) }
    func number(_ literal: UnsafeRawBufferPointer, smallInteger: Int?, offset: Int) throws(JSONParseError) -> JSONValue {
        .number(String(decoding: literal, as: UTF8.self))
    }
    func string(_ s: String) -> JSONValue { .string(s) }
    func array(_ items: [JSONValue]) -> JSONValue { .array(items) }
    func object(keys: [String], values: [JSONValue], index: JSONKeyIndex) -> JSONValue {
        .object(JSONObject(keys: keys, values: values, index: index))
    }
}
