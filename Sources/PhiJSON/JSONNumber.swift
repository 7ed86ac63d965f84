/// Exact readings of JSON number literals (text already checked against the JSON grammar).
public enum JSONNumber {
    /// Parses an integer literal ("-12", "0") exactly; nil for fractions, exponents or overflow.
    public static func integer(fromLiteral text: String) -> Int? {
        var utf8 = Array(text.utf8)[...]
        var negative = false
        if utf8.first == UInt8(ascii: "-") { negative = true; utf8 = utf8.dropFirst() }
        guard !utf8.isEmpty else { return nil }
        var value = 0
        for c in utf8 {
            guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
            let digit = Int(c - UInt8(ascii: "0"))
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            guard !o1 else { return nil }
            let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            guard !o2 else { return nil }
            value = s
        }
        return value
    }

    /// The literal's value as an exact integer when it is integral, whatever its spelling ("3", "3.0", "3e0",
    /// "300e-2", "-0"), as sign and decimal digits without leading zeros ("0" for zero); nil when the value has a
    /// non-zero fraction or is not a number literal. Huge exponents are refused (nil) rather than expanded.
    public static func integralDigits(_ text: String) -> (negative: Bool, digits: [UInt8])? {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") { negative = true; bytes = bytes.dropFirst() }
        var mantissa: [UInt8] = []
        var fractionDigits = 0
        var seenPoint = false
        while let c = bytes.first, c != UInt8(ascii: "e"), c != UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if c == UInt8(ascii: ".") { guard !seenPoint else { return nil }; seenPoint = true; continue }
            guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
            mantissa.append(c)
            if seenPoint { fractionDigits += 1 }
        }
        guard !mantissa.isEmpty else { return nil }
        var exponent = 0
        if !bytes.isEmpty {
            bytes = bytes.dropFirst()  // e / E
            var expNegative = false
            if bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
            else if bytes.first == UInt8(ascii: "-") { expNegative = true; bytes = bytes.dropFirst() }
            guard !bytes.isEmpty else { return nil }
            for c in bytes {
                guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
                // Any exponent past 10^6 is far outside every integer type; stop before it can overflow.
                exponent = min(exponent * 10 + Int(c - UInt8(ascii: "0")), 1_000_000)
            }
            if expNegative { exponent = -exponent }
        }
        // Drop leading zeros; zero is zero whatever the exponent.
        while mantissa.count > 1, mantissa.first == UInt8(ascii: "0") {
            mantissa.removeFirst()
        }
        if mantissa.allSatisfy({ $0 == UInt8(ascii: "0") }) { return (negative, [UInt8(ascii: "0")]) }
        var shift = exponent - fractionDigits  // value = mantissa × 10^shift
        while shift < 0 {
            guard mantissa.last == UInt8(ascii: "0") else { return nil }  // a non-zero fraction
            mantissa.removeLast()
            shift += 1
        }
        guard mantissa.count + shift <= 40 else { return nil }  // beyond any fixed-width integer
        mantissa.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: shift))
        return (negative, mantissa)
    }

    /// The literal as an exact `T` when its value is integral and in range (see `integralDigits`).
    public static func exactInteger<T: FixedWidthInteger>(_ text: String, as: T.Type = T.self) -> T? {
        guard let (negative, digits) = integralDigits(text) else { return nil }
        var value: T = 0
        for c in digits {
            let d = T(c - UInt8(ascii: "0"))
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            guard !o1 else { return nil }
            let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            guard !o2 else { return nil }
            value = s
        }
        return value
    }

    /// True when the literal is written as an integer (no fraction, no exponent).
    public static func isIntegerLiteral(_ text: String) -> Bool {
        !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }
}
