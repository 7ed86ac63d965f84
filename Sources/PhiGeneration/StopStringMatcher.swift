/// Finds user stop strings in streamed text and holds back any tail that could still become one,
/// so a stop string is never shown even when it arrives split across tokens.
public struct StopStringMatcher: Sendable {
    public let stops: [String]
    private var pending = ""

    public init(_ stops: [String]) { self.stops = stops.filter { !$0.isEmpty } }

    /// Feeds new text; returns the text safe to show and whether a stop string was reached
    /// (the text before it is returned, the stop string and anything after it are dropped).
    public mutating func feed(_ text: String) -> (emit: String, stopped: Bool) {
        pending += text
        guard !stops.isEmpty else { defer { pending = "" }; return (pending, false) }
        var earliest: String.Index? = nil
        for s in stops {
            if let r = pending.range(of: s), earliest.map({ r.lowerBound < $0 }) ?? true { earliest = r.lowerBound }
        }
        if let e = earliest {
            let out = String(pending[..<e])
            pending = ""
            return (out, true)
        }
        // Hold back the longest suffix that is a prefix of some stop string.
        var hold = 0
        for s in stops {
            var n = min(s.count - 1, pending.count)
            while n > hold {
                if pending.hasSuffix(String(s.prefix(n))) { hold = n; break }
                n -= 1
            }
        }
        let cut = pending.index(pending.endIndex, offsetBy: -hold)
        let out = String(pending[..<cut])
        pending = String(pending[cut...])
        return (out, false)
    }

    /// Text still held back at the end of generation.
    public mutating func flush() -> String {
        defer { pending = "" }
        return pending
    }
}
