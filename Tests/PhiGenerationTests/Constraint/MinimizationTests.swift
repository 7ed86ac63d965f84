import XCTest
@testable import PhiGeneration
import PhiTestSupport

/// `NFA.DFA.minimized` must keep the language and leave no two equivalent states. Both are checked here without
/// Moore's refinement: minimality by pairwise table filling, the language by walking both automata on many strings.
final class MinimizationTests: XCTestCase {
    /// Single-rule constraints (no calls), small enough for an n² table: UTF-8 ranges, loops, alternatives, literals.
    static let patterns: [(name: String, grammar: () throws -> Grammar)] = [
        ("regex date", { try regex("\\d{4}-(0[1-9]|1[0-2])-[0-3]\\d") }),
        ("regex loop", { try regex("(ab|a)*c?[x-z]+") }),
        ("regex unicode", { try regex("[α-ω]+|[^\\x00-\\x7f]{1,2}") }),
        ("schema object", { try JSONSchemaCompiler.grammar(schema: #"{"type":"object","properties":{"a":{"type":"integer","minimum":-5,"maximum":120},"b":{"enum":["x","yy",null]}},"required":["a"],"additionalProperties":false}"#) }),
        ("schema string", { try JSONSchemaCompiler.grammar(schema: #"{"type":"string","maxLength":4}"#) }),
    ]

    static func regex(_ p: String) throws -> Grammar {
        var g = Grammar()
        _ = g.add("root")
        g.rules[0] = try RegexParser.parse(p)
        return g
    }

    static func dfas(_ g: Grammar) throws -> (NFA.DFA, NFA.DFA) {
        var nfa = NFA()
        let s = nfa.newState(), e = nfa.newState()
        try nfa.build(g.rules[0], s, e, grammar: g, keptIndex: [0: 0], inlineDepth: 0)
        let dfa = try nfa.determinize(start: s, accept: e, nodeBase: 0)
        return (dfa, dfa.minimized(nodeBase: 0))
    }

    func testMinimizedHasNoEquivalentStates() throws {
        for (name, make) in Self.patterns {
            let (_, m) = try Self.dfas(try make())
            let n = m.accept.count
            XCTAssertLessThan(n, 400, "\(name): too large for the table")
            // distinct[p * n + q]: some string is accepted from exactly one of p, q (-1, no edge, accepts nothing).
            var distinct = [Bool](repeating: false, count: n * n)
            for p in 0..<n { for q in 0..<n where m.accept[p] != m.accept[q] { distinct[p * n + q] = true } }
            var changed = true
            while changed {
                changed = false
                for p in 0..<n {
                    for q in (p + 1)..<n where !distinct[p * n + q] {
                        for b in 0..<256 {
                            let tp = Int(m.next[p * 256 + b]), tq = Int(m.next[q * 256 + b])
                            if tp == tq { continue }
                            if tp < 0 || tq < 0 || distinct[tp * n + tq] {
                                distinct[p * n + q] = true; distinct[q * n + p] = true; changed = true
                                break
                            }
                        }
                    }
                }
            }
            for p in 0..<n { for q in (p + 1)..<n {
                XCTAssertTrue(distinct[p * n + q], "\(name): states \(p) and \(q) are equivalent")
            } }
        }
    }

    func testMinimizedKeepsTheLanguage() throws {
        var rng = SplitMix64(seed: 7)
        for (name, make) in Self.patterns {
            let (d, m) = try Self.dfas(try make())
            XCTAssertLessThanOrEqual(m.accept.count, d.accept.count, name)
            func run(_ a: NFA.DFA, _ s: [UInt8]) -> Bool {
                var st = 0
                for b in s { st = Int(a.next[st * 256 + Int(b)]); if st < 0 { return false } }
                return a.accept[st]
            }
            var agreedAccepts = 0
            for _ in 0..<3000 {
                // A walk along the unminimized automaton's edges (so many strings are accepted), sometimes a
                // random byte or a stop, so many are not.
                var s: [UInt8] = [], st = 0
                for _ in 0..<Int(rng.next() % 24) {
                    let choices = (0..<256).filter { d.next[st * 256 + $0] >= 0 }
                    let b = choices.isEmpty || rng.next() % 10 == 0 ? Int(rng.next() % 256) : choices[Int(rng.next() % UInt64(choices.count))]
                    s.append(UInt8(b))
                    let t = Int(d.next[st * 256 + b])
                    if t < 0 { break }
                    st = t
                    if d.accept[st] && rng.next() % 4 == 0 { break }
                }
                let a = run(d, s)
                XCTAssertEqual(a, run(m, s), "\(name): \(s)")
                if a { agreedAccepts += 1 }
            }
            XCTAssertGreaterThan(agreedAccepts, 50, "\(name): the walk hardly reached an accepting state")
        }
    }
}
