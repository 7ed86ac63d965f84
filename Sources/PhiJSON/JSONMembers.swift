/// A large JSON object in file order (a 200k-entry vocabulary is much cheaper to build and walk as a list).
public struct JSONMembers {
    public let keys: [String]
    public let values: [Any]
    /// The members as (key, value) pairs, in file order.
    public var members: JSONMemberList { JSONMemberList(keys: keys, values: values) }
}

/// (key, value) pairs over `JSONMembers`' two arrays, without copying them into one.
public struct JSONMemberList: RandomAccessCollection {
    let keys: [String]
    let values: [Any]
    public var startIndex: Int { 0 }
    public var endIndex: Int { keys.count }
    public subscript(i: Int) -> (String, Any) { (keys[i], values[i]) }
}
