/// The crop grid of the original Phi-4-multimodal processor (`dynamic_preprocess`, reference §4).
enum Phi4MMImageGrid {
    /// `(columns, rows)` for a `width x height` image and at most `maxNum` crops.
    static func grid(width: Int, height: Int, maxNum: Int, cropSize: Int) -> (columns: Int, rows: Int) {
        // math.ceil(w / float(448)) is the integer ceiling for any realistic size (w < 2^53).
        let wc = (width + cropSize - 1) / cropSize
        let hc = (height + cropSize - 1) / cropSize
        if wc * hc <= maxNum { return (wc, hc) }
        let aspect = Double(width) / Double(height)
        let area = Double(width * height) // exact below 2^53, as Python's int/float comparison is
        var bestDiff = Double.infinity
        var best = (columns: 1, rows: 1)
        for (i, j) in candidates(maxNum: maxNum) {
            let diff = abs(aspect - Double(i) / Double(j))
            if diff < bestDiff {
                bestDiff = diff
                best = (i, j)
            } else if diff == bestDiff {
                // Python: area > 0.5 * image_size * image_size * i * j, evaluated left to right in float.
                if area > 0.5 * Double(cropSize) * Double(cropSize) * Double(i) * Double(j) { best = (i, j) }
            }
        }
        return best
    }

    /// All (i, j) with 1 <= i*j <= maxNum in the order the original iterates them: `sorted(set(...), key=i*j)`.
    /// `sorted` is stable, so pairs with equal i*j keep the iteration order of a CPython set of int tuples, which is
    /// deterministic (int and tuple hashes are not randomized). That order matters only when the aspect ratio lies
    /// exactly midway between two equal-area grids. For the model's dynamic_hd = 36 it is hard-coded below (taken
    /// from CPython 3.11); for other values the pairs keep generation order within equal i*j, which may differ
    /// from CPython in those exact-midpoint cases.
    static func candidates(maxNum: Int) -> [(Int, Int)] {
        if maxNum == 36 { return cpythonOrder36 }
        // First occurrence in the generator `for n, for i in 1...n, for j in 1...n`: pair (i, j) first appears at
        // n = max(i, j), so generate each n's new pairs directly.
        var pairs: [(Int, Int)] = []
        for n in 1...max(1, maxNum) where n <= maxNum {
            for i in 1..<n where i * n <= maxNum { pairs.append((i, n)) }
            for j in 1...n where n * j <= maxNum { pairs.append((n, j)) }
        }
        return pairs.enumerated().sorted {
            let a = $0.element.0 * $0.element.1, b = $1.element.0 * $1.element.1
            return a != b ? a < b : $0.offset < $1.offset
        }.map(\.element)
    }

    static let cpythonOrder36: [(Int, Int)] = [
        (1, 1), (1, 2), (2, 1), (3, 1), (1, 3), (2, 2), (4, 1), (1, 4), (5, 1), (1, 5),
        (6, 1), (3, 2), (2, 3), (1, 6), (7, 1), (1, 7), (4, 2), (2, 4), (1, 8), (8, 1),
        (9, 1), (3, 3), (1, 9), (1, 10), (5, 2), (10, 1), (2, 5), (1, 11), (11, 1), (6, 2),
        (1, 12), (2, 6), (12, 1), (3, 4), (4, 3), (13, 1), (1, 13), (14, 1), (1, 14), (7, 2),
        (2, 7), (1, 15), (5, 3), (3, 5), (15, 1), (8, 2), (16, 1), (4, 4), (1, 16), (2, 8),
        (1, 17), (17, 1), (18, 1), (3, 6), (9, 2), (1, 18), (6, 3), (2, 9), (1, 19), (19, 1),
        (20, 1), (5, 4), (2, 10), (1, 20), (4, 5), (10, 2), (7, 3), (1, 21), (3, 7), (21, 1),
        (2, 11), (11, 2), (22, 1), (1, 22), (1, 23), (23, 1), (1, 24), (24, 1), (6, 4), (3, 8),
        (4, 6), (2, 12), (8, 3), (12, 2), (5, 5), (1, 25), (25, 1), (1, 26), (2, 13), (13, 2),
        (26, 1), (9, 3), (27, 1), (3, 9), (1, 27), (1, 28), (7, 4), (14, 2), (2, 14), (4, 7),
        (28, 1), (29, 1), (1, 29), (3, 10), (15, 2), (1, 30), (2, 15), (10, 3), (5, 6), (30, 1),
        (6, 5), (1, 31), (31, 1), (8, 4), (1, 32), (4, 8), (32, 1), (16, 2), (2, 16), (1, 33),
        (33, 1), (3, 11), (11, 3), (34, 1), (17, 2), (2, 17), (1, 34), (35, 1), (1, 35), (7, 5),
        (5, 7), (4, 9), (6, 6), (3, 12), (18, 2), (12, 3), (36, 1), (1, 36), (9, 4), (2, 18),
    ]
}
