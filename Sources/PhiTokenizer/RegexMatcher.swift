/// Pre-tokenizer patterns without a hand-coded matcher (anything but o200k, Llama-3 and GPT-2), run on a Pike VM.
///
/// Why not `NSRegularExpression`: ICU backtracks, so a tokenizer.json `Split` pattern such as `(a+)+$` takes
/// exponential time (issue 10: 20 s at 60 characters), and Foundation on Linux exposes neither ICU's time nor its
/// stack limit. The VM runs all alternatives in lockstep, one thread per program instruction at most, so one search
/// costs O(pattern size × text length) whatever the pattern, with the results of a backtracking engine
/// (leftmost-first: the thread list keeps the order in which backtracking would try the alternatives).
/// `RegexProgram` lists the supported syntax; other patterns are refused when the tokenizer loads.
///
/// Matches are found like Oniguruma's `find_iter` (HF `tokenizers`): leftmost-first, non-overlapping; an empty
/// match right at the end of the previous match is skipped.
final class RegexMatcher: Sendable {
    let pattern: String
    let program: RegexProgram

    init(pattern: String) throws {
        self.pattern = pattern
        do {
            program = try RegexProgram(pattern: pattern)
        } catch {
            throw TokenizerError.invalidPattern(pattern: pattern, detail: error.description)
        }
    }

    /// Byte ranges of all matches (leftmost-first, non-overlapping) in valid UTF-8.
    func matches(_ p: UnsafePointer<UInt8>, _ n: Int) -> [(Int, Int)] {
        var steps = 0
        return matches(p, n, steps: &steps)
    }

    /// The same, adding the VM's thread steps to `steps` (the linear-time tests count work, not seconds).
    func matches(_ p: UnsafePointer<UInt8>, _ n: Int, steps: inout Int) -> [(Int, Int)] {
        var vm = PikeVM(program)
        var out: [(Int, Int)] = []
        var at = 0
        var lastEnd = -1
        while at <= n {
            guard let (s, e) = vm.search(p, n, from: at) else { break }
            if s == e && e == lastEnd {
                guard e < n else { break }
                at = e + readScalar(p, e, n).length
                continue
            }
            out.append((s, e))
            lastEnd = e
            at = e
        }
        steps += vm.steps
        return out
    }
}

/// One search at a time over a `RegexProgram`: thread lists as sparse sets (one slot per instruction).
struct PikeVM {
    let program: RegexProgram
    private var current = ThreadList(0)
    private var next = ThreadList(0)
    private var stack: [Int32] = []
    /// Per instruction: the list generation it was last added to (dedup within one position's closure).
    private var seen: [UInt32]
    private var generation: UInt32 = 0
    /// Threads stepped so far (for the linear-time tests).
    private(set) var steps = 0

    init(_ program: RegexProgram) {
        self.program = program
        current = ThreadList(program.insts.count)
        next = ThreadList(program.insts.count)
        seen = [UInt32](repeating: 0, count: program.insts.count)
    }

    struct ThreadList {
        var pcs: [Int32]
        var starts: [Int]
        var count = 0
        init(_ capacity: Int) {
            pcs = [Int32](repeating: 0, count: capacity)
            starts = [Int](repeating: 0, count: capacity)
        }

        /// At most one entry per instruction per generation, so `capacity` is never exceeded.
        mutating func append(_ pc: Int, _ start: Int) {
            pcs[count] = Int32(pc)
            starts[count] = start
            count += 1
        }
    }

    private mutating func newGeneration() {
        generation &+= 1
        if generation == 0 {  // wrapped: forget every mark
            for k in seen.indices { seen[k] = 0 }
            generation = 1
        }
    }

    /// Adds the thread at `pc` (and everything reachable without consuming input, in priority order) to `list`.
    private mutating func add(toNext: Bool, _ pc: Int, start: Int, at pos: Int, _ p: UnsafePointer<UInt8>, _ n: Int) {
        stack.append(Int32(pc))
        while let top = stack.popLast() {
            let pc = Int(top)
            if seen[pc] == generation { continue }
            seen[pc] = generation
            switch program.insts[pc] {
            case .jump(let target):
                stack.append(Int32(target))
            case .split(let first, let second):
                stack.append(Int32(second))
                stack.append(Int32(first))
            case .assert(let a):
                if holds(a, at: pos, p, n) { stack.append(Int32(pc + 1)) }
            case .set, .match:
                if toNext { next.append(pc, start) } else { current.append(pc, start) }
            }
        }
    }

    private func holds(_ a: RegexProgram.Assertion, at pos: Int, _ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        switch a {
        case .lineStart: return pos == 0 || p[pos - 1] == 0x0A
        case .lineEnd: return pos == n || p[pos] == 0x0A
        case .textStart: return pos == 0
        case .textEnd: return pos == n
        case .textEndOrFinalNewline: return pos == n || (pos == n - 1 && p[pos] == 0x0A)
        case .wordBoundary, .notWordBoundary:
            let table = GeneralCategoryTable.shared
            let before = pos > 0 && table.isWord(readScalar(p, pos - previousScalarLength(p, 0, pos), n).scalar)
            let after = pos < n && table.isWord(readScalar(p, pos, n).scalar)
            return (before != after) == (a == .wordBoundary)
        case .ahead(let set, let negated):
            let inSet = pos < n && program.sets[set].contains(readScalar(p, pos, n).scalar)
            return inSet != negated
        }
    }

    /// The leftmost-first match starting at or after `from`, as byte offsets.
    mutating func search(_ p: UnsafePointer<UInt8>, _ n: Int, from: Int) -> (Int, Int)? {
        var matched: (Int, Int)?
        var pos = from
        current.count = 0
        newGeneration()
        while true {
            // A new thread starting here, behind every older one (a later start loses to any earlier start).
            if matched == nil { add(toNext: false, 0, start: pos, at: pos, p, n) }
            if current.count == 0 && (matched != nil || pos >= n) { break }
            let (c, length) = pos < n ? readScalar(p, pos, n) : (0, 0)
            newGeneration()
            next.count = 0
            var k = 0
            while k < current.count {
                let pc = Int(current.pcs[k])
                steps += 1
                switch program.insts[pc] {
                case .match:
                    matched = (current.starts[k], pos)
                    k = current.count  // threads behind this one have lower priority: cut them
                    continue
                case .set(let s):
                    if pos < n && program.sets[s].contains(c) {
                        add(toNext: true, pc + 1, start: current.starts[k], at: pos + length, p, n)
                    }
                default:
                    break
                }
                k += 1
            }
            swap(&current, &next)
            if pos >= n { break }
            pos += length
        }
        return matched
    }
}
