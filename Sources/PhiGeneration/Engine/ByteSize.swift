/// A byte count as operators write it on the command line: `1073741824`, `512M`, `2G`, `1GiB`, `1.5g`, `64KB`.
/// A bare unit letter or `…iB` counts in powers of 1024 (as `ulimit`, Docker and llama.cpp do); `KB`, `MB`,
/// `GB`, `TB` are the decimal SI units. Overflow and negative sizes are errors, never traps.
public enum ByteSize {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let text: String
        public var description: String {
            "'\(text)' is not a byte size (examples: 1073741824, 512M, 2G, 1GiB, 500MB)"
        }
    }

    public static func parse(_ text: String) throws -> Int {
        let s = text.trimmingWhitespace
        let numberEnd = s.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? s.endIndex
        let number = String(s[..<numberEnd])
        let unit = s[numberEnd...].trimmingWhitespace.lowercased()
        let scale: Int
        switch unit {
        case "", "b": scale = 1
        case "k", "ki", "kib": scale = 1 << 10
        case "m", "mi", "mib": scale = 1 << 20
        case "g", "gi", "gib": scale = 1 << 30
        case "t", "ti", "tib": scale = 1 << 40
        case "kb": scale = 1_000
        case "mb": scale = 1_000_000
        case "gb": scale = 1_000_000_000
        case "tb": scale = 1_000_000_000_000
        default: throw ParseError(text: text)
        }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard !number.isEmpty, parts.count <= 2, parts.allSatisfy({ $0.allSatisfy(\.isASCII) }),
              let whole = parts.first, !(whole.isEmpty && (parts.count < 2 || parts[1].isEmpty)) else {
            throw ParseError(text: text)
        }
        var value = 0
        for c in whole {
            guard let d = c.wholeNumberValue else { throw ParseError(text: text) }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(d)
            guard !o1, !o2 else { throw ParseError(text: text) }
            value = a
        }
        let (scaled, overflow) = value.multipliedReportingOverflow(by: scale)
        guard !overflow else { throw ParseError(text: text) }
        guard parts.count == 2 else { return scaled }
        // A fraction of the unit, rounded down to whole bytes (six digits are plenty).
        var fraction = 0, denominator = 1
        for c in parts[1].prefix(6) {
            guard let d = c.wholeNumberValue else { throw ParseError(text: text) }
            fraction = fraction * 10 + d
            denominator *= 10
        }
        guard parts[1].allSatisfy({ $0.wholeNumberValue != nil }) else { throw ParseError(text: text) }
        // scale ≤ 2^40 and fraction < 10^6: neither product below can overflow.
        let extra = (scale / denominator) * fraction + (scale % denominator) * fraction / denominator
        let (total, o) = scaled.addingReportingOverflow(extra)
        guard !o else { throw ParseError(text: text) }
        return total
    }

    /// A size for messages: `512 MiB`, `1.5 GiB`, `300 B`.
    public static func describe(_ bytes: Int) -> String {
        let units = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size {
            let tenths = bytes / (size / 10)
            return tenths % 10 == 0 ? "\(tenths / 10) \(name)" : "\(tenths / 10).\(tenths % 10) \(name)"
        }
        return "\(bytes) B"
    }
}

private extension StringProtocol {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
