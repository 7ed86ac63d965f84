// The three container kinds of JSONValueDecoder. Every scalar goes through its JSONScalar rule.

struct JSONKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let decoder: JSONValueDecoder
    var codingPath: [CodingKey] { decoder.codingPath }
    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONValue {
        guard let v = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing '\(key.stringValue)'"))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).isNull }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Bool.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try String.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Double.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try Float.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Int.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Int8.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Int16.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Int32.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Int64.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try UInt.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try UInt8.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try UInt16.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try UInt32.unbox(try member(key), path: codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try UInt64.unbox(try member(key), path: codingPath + [key]) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.child(try member(key), key).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.child(try member(key), key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try decoder.child(try member(key), key).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder {
        let key = JSONAnyKey("super")
        return decoder.child(object["super"] ?? .null, key)
    }

    func superDecoder(forKey key: Key) throws -> Decoder { decoder.child(object[key.stringValue] ?? .null, key) }
}

struct JSONUnkeyedContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let decoder: JSONValueDecoder
    var codingPath: [CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }
    private(set) var currentIndex = 0

    init(items: [JSONValue], decoder: JSONValueDecoder) {
        self.items = items
        self.decoder = decoder
    }

    private mutating func next<T>(_ type: T.Type) throws -> (JSONValue, [CodingKey]) {
        let path = codingPath + [JSONIndexKey(currentIndex)]
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "the array has only \(items.count) elements"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { _ = try next(Never.self); return false }
        guard items[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { let (v, p) = try next(type); return try Bool.unbox(v, path: p) }
    mutating func decode(_ type: String.Type) throws -> String { let (v, p) = try next(type); return try String.unbox(v, path: p) }
    mutating func decode(_ type: Double.Type) throws -> Double { let (v, p) = try next(type); return try Double.unbox(v, path: p) }
    mutating func decode(_ type: Float.Type) throws -> Float { let (v, p) = try next(type); return try Float.unbox(v, path: p) }
    mutating func decode(_ type: Int.Type) throws -> Int { let (v, p) = try next(type); return try Int.unbox(v, path: p) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let (v, p) = try next(type); return try Int8.unbox(v, path: p) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let (v, p) = try next(type); return try Int16.unbox(v, path: p) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let (v, p) = try next(type); return try Int32.unbox(v, path: p) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let (v, p) = try next(type); return try Int64.unbox(v, path: p) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let (v, p) = try next(type); return try UInt.unbox(v, path: p) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let (v, p) = try next(type); return try UInt8.unbox(v, path: p) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let (v, p) = try next(type); return try UInt16.unbox(v, path: p) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let (v, p) = try next(type); return try UInt32.unbox(v, path: p) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let (v, p) = try next(type); return try UInt64.unbox(v, path: p) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, p) = try next(type)
        return try JSONValueDecoder(value: v, codingPath: p, userInfo: decoder.userInfo).decodeValue(type)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, p) = try next(JSONObject.self)
        return try JSONValueDecoder(value: v, codingPath: p, userInfo: decoder.userInfo).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let (v, p) = try next([JSONValue].self)
        return try JSONValueDecoder(value: v, codingPath: p, userInfo: decoder.userInfo).unkeyedContainer()
    }

    mutating func superDecoder() throws -> Decoder {
        let (v, p) = try next(JSONValue.self)
        return JSONValueDecoder(value: v, codingPath: p, userInfo: decoder.userInfo)
    }
}

struct JSONSingleValueContainer: SingleValueDecodingContainer {
    let decoder: JSONValueDecoder
    var codingPath: [CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value.isNull }

    func decode(_ type: Bool.Type) throws -> Bool { try Bool.unbox(decoder.value, path: codingPath) }
    func decode(_ type: String.Type) throws -> String { try String.unbox(decoder.value, path: codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try Double.unbox(decoder.value, path: codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try Float.unbox(decoder.value, path: codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try Int.unbox(decoder.value, path: codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Int8.unbox(decoder.value, path: codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Int16.unbox(decoder.value, path: codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Int32.unbox(decoder.value, path: codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Int64.unbox(decoder.value, path: codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try UInt.unbox(decoder.value, path: codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try UInt8.unbox(decoder.value, path: codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try UInt16.unbox(decoder.value, path: codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try UInt32.unbox(decoder.value, path: codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try UInt64.unbox(decoder.value, path: codingPath) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}
