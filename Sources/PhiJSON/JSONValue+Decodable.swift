/// A `JSONValue` field takes the member as it is (for fields whose shape varies, or to keep raw JSON).
extension JSONValue: Decodable {
    public init(from decoder: Decoder) throws {
        if let d = decoder as? JSONValueDecoder {
            self = d.value
            return
        }
        // Another decoder (Foundation's JSONDecoder): rebuild the value from what it offers.
        if let object = try? decoder.container(keyedBy: JSONAnyKey.self) {
            var members: [(String, JSONValue)] = []
            for key in object.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                members.append((key.stringValue, try object.decode(JSONValue.self, forKey: key)))
            }
            self = .object(JSONObject(members))
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !array.isAtEnd { items.append(try array.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let b = try? single.decode(Bool.self) { self = .bool(b) }
        else if let i = try? single.decode(Int.self) { self = .number(String(i)) }
        else if let d = try? single.decode(Double.self) { self = .number("\(d)") }
        else { self = .string(try single.decode(String.self)) }
    }
}
