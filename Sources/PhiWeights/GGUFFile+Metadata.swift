/// Typed metadata access. A missing key or a value of the wrong type is a `WeightsError.invalidFile` that names the
/// file, the key and what was found; the `default:` overloads only tolerate absence, never a wrong type.
extension GGUFFile {
    /// The value for `key`, or nil when absent.
    public func value(_ key: String) -> GGUFValue? { metadata[key] }

    public func hasKey(_ key: String) -> Bool { metadata[key] != nil }

    public func string(_ key: String) throws(WeightsError) -> String {
        let v = try required(key)
        guard let s = v.stringValue else { throw mismatch(key, v, "a string") }
        return s
    }

    /// Any integer type, when the value fits in `Int`.
    public func int(_ key: String) throws(WeightsError) -> Int {
        try intValue(key, try required(key))
    }

    /// float32 or float64 (integers are converted).
    public func float(_ key: String) throws(WeightsError) -> Float {
        Float(try double(key))
    }

    /// float32 or float64 (integers are converted).
    public func double(_ key: String) throws(WeightsError) -> Double {
        let v = try required(key)
        guard let d = v.doubleValue else { throw mismatch(key, v, "a number") }
        return d
    }

    public func bool(_ key: String) throws(WeightsError) -> Bool {
        let v = try required(key)
        guard let b = v.boolValue else { throw mismatch(key, v, "a bool") }
        return b
    }

    public func string(_ key: String, default fallback: String) throws(WeightsError) -> String {
        hasKey(key) ? try string(key) : fallback
    }

    public func int(_ key: String, default fallback: Int) throws(WeightsError) -> Int {
        hasKey(key) ? try int(key) : fallback
    }

    public func float(_ key: String, default fallback: Float) throws(WeightsError) -> Float {
        hasKey(key) ? try float(key) : fallback
    }

    public func bool(_ key: String, default fallback: Bool) throws(WeightsError) -> Bool {
        hasKey(key) ? try bool(key) : fallback
    }

    /// An array of strings.
    public func stringArray(_ key: String) throws(WeightsError) -> [String] {
        let v = try required(key)
        guard case .array(.string, let values) = v else { throw mismatch(key, v, "an array of strings") }
        var out: [String] = []
        out.reserveCapacity(values.count)
        for case .string(let s) in values { out.append(s) }
        return out
    }

    /// An array of any integer type; every element must fit in `Int`.
    public func intArray(_ key: String) throws(WeightsError) -> [Int] {
        let v = try required(key)
        guard case .array(let t, let values) = v, t != .array, t != .string, t != .bool,
              t != .float32, t != .float64 else {
            throw mismatch(key, v, "an array of integers")
        }
        var out: [Int] = []
        out.reserveCapacity(values.count)
        for (i, e) in values.enumerated() {
            guard let n = e.intValue else {
                throw WeightsError.invalidFile(file: path, reason: "metadata '\(key)' element \(i) (\(e.rendered)) does not fit in Int")
            }
            out.append(n)
        }
        return out
    }

    /// An array of float32 or float64 (integer arrays are converted).
    public func floatArray(_ key: String) throws(WeightsError) -> [Float] {
        let v = try required(key)
        guard case .array(let t, let values) = v, t != .array, t != .string, t != .bool else {
            throw mismatch(key, v, "an array of numbers")
        }
        return values.map { Float($0.doubleValue ?? .nan) }
    }

    private func required(_ key: String) throws(WeightsError) -> GGUFValue {
        guard let v = metadata[key] else {
            throw WeightsError.invalidFile(file: path, reason: "metadata key '\(key)' is missing")
        }
        return v
    }

    private func intValue(_ key: String, _ v: GGUFValue) throws(WeightsError) -> Int {
        guard v.isInteger else { throw mismatch(key, v, "an integer") }
        guard let n = v.intValue else {
            throw WeightsError.invalidFile(file: path, reason: "metadata '\(key)' value \(v.rendered) does not fit in Int")
        }
        return n
    }

    private func mismatch(_ key: String, _ v: GGUFValue, _ expected: String) -> WeightsError {
        .invalidFile(file: path, reason: "metadata '\(key)' is \(v.typeName) (\(v.rendered)), not \(expected)")
    }
}
