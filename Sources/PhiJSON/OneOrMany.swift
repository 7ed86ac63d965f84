/// HF fields that hold one value or a list (`eos_token_id: 2` or `[2, 32000]`).
public struct OneOrMany<T: Decodable>: Decodable {
    public var values: [T]
    public init(from decoder: Decoder) throws {
        if let list = try? decoder.unkeyedContainer() {
            var list = list
            var values: [T] = []
            while !list.isAtEnd { values.append(try list.decode(T.self)) }
            self.values = values
        } else {
            values = [try decoder.singleValueContainer().decode(T.self)]
        }
    }
}
