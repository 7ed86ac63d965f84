import PhiKernels
import PhiTensor

/// A low-rank adapter on one Linear (PEFT LoRA): y += scale · B·(A·x), with A: [r, in], B: [out, r].
/// It is applied beside the base weight at run time, never merged into it, so the base stays shared and
/// text-only requests keep using it unchanged.
public struct LoRA: @unchecked Sendable {
    public let a: Linear
    public let b: Linear
    public let scale: Float
    public var rank: Int { a.outFeatures }

    public init(a: Linear, b: Linear, scale: Float, name: String = "") throws {
        guard a.outFeatures == b.inFeatures else {
            throw NNError.unsupportedWeight(name: name, reason: "LoRA A has rank \(a.outFeatures) but B expects \(b.inFeatures)")
        }
        self.a = a
        self.b = b
        self.scale = scale
    }

    /// y[rows, out] (stride ldy) += scale · B·(A·x) for x: [rows, in] (stride ldx).
    public func add(_ x: UnsafePointer<Float>, ldx: Int? = nil, rows: Int, into y: UnsafeMutablePointer<Float>,
                    ldy: Int? = nil, parallel: Parallel) {
        guard rows > 0 else { return }
        let r = rank, out = b.outFeatures, ldy = ldy ?? out
        let t = UnsafeMutablePointer<Float>.allocate(capacity: rows * r)
        let u = UnsafeMutablePointer<Float>.allocate(capacity: rows * out)
        defer { t.deallocate(); u.deallocate() }
        a(x, ldx: ldx, rows: rows, into: t, parallel: parallel)
        b(t, rows: rows, into: u, parallel: parallel)
        let s = scale
        for i in 0..<rows {
            let yr = y + i * ldy, ur = u + i * out
            for j in 0..<out { yr[j] += s * ur[j] }
        }
    }
}

/// The adapters of one decoder layer (any may be absent).
public struct LayerLoRA: @unchecked Sendable {
    public var qkv: LoRA?
    public var o: LoRA?
    public var gateUp: LoRA?
    public var down: LoRA?
    public init(qkv: LoRA? = nil, o: LoRA? = nil, gateUp: LoRA? = nil, down: LoRA? = nil) {
        self.qkv = qkv
        self.o = o
        self.gateUp = gateUp
        self.down = down
    }
}

/// Rows start ..< start+count of a batched activation belong to one sequence and run with its adapter.
struct AdapterRows {
    let start: Int
    let count: Int
    let lora: LayerLoRA
}

/// A named set of per-layer adapters (e.g. Phi-4-multimodal's "vision" or "speech" LoRA).
public final class LoRAAdapter: @unchecked Sendable {
    public let name: String
    public let layers: [LayerLoRA]
    public init(name: String, layers: [LayerLoRA]) {
        self.name = name
        self.layers = layers
    }
}

/// Per-sequence multimodal state passed with every forward call of a sequence: the adapter its input mode
/// selects, and embedding rows that replace the token embeddings at given absolute positions (image or
/// audio features spliced over placeholder tokens). Positions are absolute, so a recomputation from
/// position 0 (LongRoPE switching factors) applies them again.
public final class Conditioning: @unchecked Sendable {
    public let adapter: LoRAAdapter?
    /// Sorted absolute positions; row i of `rows` replaces the embedding at positions[i].
    public let positions: [Int]
    public let rows: [Float]
    public let width: Int

    public init(adapter: LoRAAdapter?, positions: [Int], rows: [Float], width: Int) throws {
        guard width > 0, rows.count == positions.count * width else {
            throw NNError.invalidInput("\(rows.count / max(width, 1)) embedding rows for \(positions.count) placeholder positions")
        }
        guard zip(positions, positions.dropFirst()).allSatisfy({ $0 < $1 }), (positions.first ?? 0) >= 0 else {
            throw NNError.invalidInput("placeholder positions must be increasing and non-negative")
        }
        self.adapter = adapter
        self.positions = positions
        self.rows = rows
        self.width = width
    }

    /// Overwrites rows of x: [T, width] that hold positions start ..< start+T.
    func apply(start: Int, count T: Int, to x: UnsafeMutablePointer<Float>) {
        var lo = 0, hi = positions.count
        while lo < hi { let mid = (lo + hi) / 2; if positions[mid] < start { lo = mid + 1 } else { hi = mid } }
        rows.withUnsafeBufferPointer { r in
            guard let base = r.baseAddress else { return }
            var i = lo
            while i < positions.count, positions[i] < start + T {
                (x + (positions[i] - start) * width).update(from: base + i * width, count: width)
                i += 1
            }
        }
    }
}
