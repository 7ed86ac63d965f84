/// One-character matcher of the tokenizer regex engine (`RegexMatcher`): a literal, a range, a `[...]` class, an
/// escape such as `\p{L}`, `\s`, `\d`, or `.`, optionally case-insensitive (`(?i:...)`).
///
/// A set is a union of atoms, each possibly negated (`[\S\p{L}]`), then the whole set possibly negated (`[^...]`).
/// ASCII is answered from a precomputed bitmap; other scalars from `GeneralCategoryTable`.
struct RegexCharSet: Sendable, Equatable {
    enum Atom: Sendable, Equatable {
        case range(UInt32, UInt32)
        /// Any of these general categories (bit `GeneralCategoryTable.index`).
        case categories(UInt32)
        /// Unicode White_Space (Oniguruma's and Rust regex's `\s`).
        case whitespace
        /// Every scalar (`\p{Any}`).
        case any
    }

    private(set) var atoms: [(atom: Atom, negated: Bool)] = []
    var negated = false
    var caseInsensitive = false
    /// Membership of U+0000..U+007F, filled by `finish()`.
    private var ascii: (UInt64, UInt64) = (0, 0)

    static func == (a: RegexCharSet, b: RegexCharSet) -> Bool {
        a.negated == b.negated && a.caseInsensitive == b.caseInsensitive && a.atoms.count == b.atoms.count
            && zip(a.atoms, b.atoms).allSatisfy { $0.atom == $1.atom && $0.negated == $1.negated }
    }

    mutating func add(_ atom: Atom, negated: Bool = false) { atoms.append((atom, negated)) }

    mutating func add(contentsOf other: RegexCharSet) {
        // A negated set inside a class only arises from `\S`, `\D`, `\W`, `\P{..}`: single atoms.
        if other.negated, other.atoms.count == 1 {
            atoms.append((other.atoms[0].atom, !other.atoms[0].negated))
        } else {
            atoms.append(contentsOf: other.atoms)
        }
    }

    /// Fills the bitmap; call once the atoms and flags are final.
    mutating func finish() {
        ascii = (0, 0)
        for c in 0..<UInt32(64) where slowContains(c) { ascii.0 |= 1 << UInt64(c) }
        for c in 64..<UInt32(128) where slowContains(c) { ascii.1 |= 1 << UInt64(c - 64) }
    }

    @inline(__always)
    func contains(_ c: UInt32) -> Bool {
        if c < 64 { return ascii.0 & (1 << UInt64(c)) != 0 }
        if c < 128 { return ascii.1 & (1 << UInt64(c - 64)) != 0 }
        return slowContains(c)
    }

    private func slowContains(_ c: UInt32) -> Bool {
        var hit = rawContains(c)
        if !hit && caseInsensitive {
            for v in Self.caseVariants(c) where rawContains(v) {
                hit = true
                break
            }
        }
        return hit != negated
    }

    private func rawContains(_ c: UInt32) -> Bool {
        let table = GeneralCategoryTable.shared
        for (atom, neg) in atoms {
            let inAtom: Bool
            switch atom {
            case .range(let lo, let hi): inAtom = c >= lo && c <= hi
            case .categories(let mask): inAtom = mask & (1 << UInt32(table.category(c))) != 0
            case .whitespace: inAtom = table.isWhitespace(c)
            case .any: inAtom = true
            }
            if inAtom != neg { return true }
        }
        return false
    }

    /// Simple case mappings of `c` (lower, upper, title, and lower of upper: `ſ` and the Kelvin sign match `s`, `k`).
    private static func caseVariants(_ c: UInt32) -> [UInt32] {
        guard let s = Unicode.Scalar(c) else { return [] }
        var out: [UInt32] = []
        func single(_ text: String) -> UInt32? {
            let u = text.unicodeScalars
            return u.count == 1 ? u.first?.value : nil
        }
        let p = s.properties
        for m in [p.lowercaseMapping, p.uppercaseMapping, p.titlecaseMapping] {
            if let v = single(m), v != c { out.append(v) }
        }
        if let up = single(p.uppercaseMapping), let us = Unicode.Scalar(up), let v = single(us.properties.lowercaseMapping),
           v != c {
            out.append(v)
        }
        return out
    }
}

/// General category (and White_Space) of every scalar through a two-stage table, built on first use (only by
/// tokenizers whose pattern is not one of the hand-coded ones).
struct GeneralCategoryTable: @unchecked Sendable {
    static let shared = GeneralCategoryTable()
    static let whitespaceBit: UInt8 = 0x80

    /// The bit index of each general category (the order of `Unicode.GeneralCategory`'s cases).
    static func index(_ c: Unicode.GeneralCategory) -> Int {
        switch c {
        case .uppercaseLetter: return 0
        case .lowercaseLetter: return 1
        case .titlecaseLetter: return 2
        case .modifierLetter: return 3
        case .otherLetter: return 4
        case .nonspacingMark: return 5
        case .spacingMark: return 6
        case .enclosingMark: return 7
        case .decimalNumber: return 8
        case .letterNumber: return 9
        case .otherNumber: return 10
        case .connectorPunctuation: return 11
        case .dashPunctuation: return 12
        case .openPunctuation: return 13
        case .closePunctuation: return 14
        case .initialPunctuation: return 15
        case .finalPunctuation: return 16
        case .otherPunctuation: return 17
        case .mathSymbol: return 18
        case .currencySymbol: return 19
        case .modifierSymbol: return 20
        case .otherSymbol: return 21
        case .spaceSeparator: return 22
        case .lineSeparator: return 23
        case .paragraphSeparator: return 24
        case .control: return 25
        case .format: return 26
        case .surrogate: return 27
        case .privateUse: return 28
        case .unassigned: return 29
        @unknown default: return 29
        }
    }

    /// Masks of the one-letter groups.
    static let letters: UInt32 = 0b11111
    static let marks: UInt32 = 0b111 << 5
    static let numbers: UInt32 = 0b111 << 8
    static let punctuation: UInt32 = 0b1111111 << 11
    static let symbols: UInt32 = 0b1111 << 18
    static let separators: UInt32 = 0b111 << 22
    static let others: UInt32 = 0b11111 << 25

    private let stage1: [UInt16]
    private let stage2: [UInt8]

    private init() {
        let blockCount = 0x110000 >> 8
        var s1 = [UInt16](repeating: 0, count: blockCount)
        let unassigned = UInt8(Self.index(.unassigned))
        var blocks: [[UInt8]] = [[UInt8](repeating: unassigned, count: 256)]
        var index: [[UInt8]: UInt16] = [blocks[0]: 0]
        var block = [UInt8](repeating: 0, count: 256)
        for b in 0..<blockCount {
            let plane = b >> 8
            if plane >= 4 && plane <= 13 { continue }  // unassigned planes: block 0
            for i in 0..<256 {
                let value = UInt32(b << 8 | i)
                if let scalar = Unicode.Scalar(value) {
                    let p = scalar.properties
                    block[i] = UInt8(Self.index(p.generalCategory)) | (p.isWhitespace ? Self.whitespaceBit : 0)
                } else {
                    block[i] = UInt8(Self.index(.surrogate))
                }
            }
            if let existing = index[block] {
                s1[b] = existing
            } else {
                index[block] = UInt16(blocks.count)
                s1[b] = UInt16(blocks.count)
                blocks.append(block)
            }
        }
        stage1 = s1
        stage2 = blocks.flatMap { $0 }
    }

    @inline(__always)
    private func entry(_ c: UInt32) -> UInt8 {
        guard c < 0x110000 else { return UInt8(Self.index(.unassigned)) }
        return stage2[Int(stage1[Int(c >> 8)]) << 8 | Int(c & 0xFF)]
    }

    @inline(__always) func category(_ c: UInt32) -> Int { Int(entry(c) & 0x1F) }
    @inline(__always) func isWhitespace(_ c: UInt32) -> Bool { entry(c) & Self.whitespaceBit != 0 }
    /// Oniguruma's Unicode `\w`: Letter | Mark | Number | Connector_Punctuation.
    static let word: UInt32 = letters | marks | numbers | 1 << 11
    @inline(__always) func isWord(_ c: UInt32) -> Bool { Self.word & (1 << UInt32(category(c))) != 0 }
}
