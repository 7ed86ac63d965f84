import PhiKernels

/// The activation of a gated MLP: act(gate) ⊙ up. Phi-3 and Llama use SiLU; Llama-family configs may name a
/// GELU (`hidden_act` "gelu" or "gelu_pytorch_tanh", as Gemma does).
public enum GatedActivation: String, Sendable, CaseIterable {
    case silu
    case gelu
    case geluTanh

    /// The activation a Hugging Face `hidden_act` names (transformers' ACT2FN keys), nil when unsupported.
    public init?(huggingFace name: String) {
        switch name {
        case "silu", "swish": self = .silu
        case "gelu": self = .gelu
        case "gelu_pytorch_tanh", "gelu_new", "gelu_fast": self = .geluTanh
        default: return nil
        }
    }
}

/// The feed-forward of a decoder block: down(act(gate(h)) ⊙ up(h)). Phi-3 stores gate and up fused
/// ([gate | up] rows); Llama stores them apart. Biases are optional (Llama's `mlp_bias`).
public struct FeedForward: @unchecked Sendable {
    public enum Projection: @unchecked Sendable {
        case fused(gateUp: Linear)
        case separate(gate: Linear, up: Linear)
    }

    public let projection: Projection
    public let down: Linear
    public let activation: GatedActivation
    /// [2I] = [gate bias | up bias].
    public let gateUpBias: Bias?
    /// [H].
    public let downBias: Bias?

    public init(projection: Projection, down: Linear, activation: GatedActivation = .silu, gateUpBias: Bias? = nil,
                downBias: Bias? = nil) {
        self.projection = projection
        self.down = down
        self.activation = activation
        self.gateUpBias = gateUpBias
        self.downBias = downBias
    }

    public var intermediateSize: Int { down.inFeatures }

    /// Bytes of the stored matrices (what one token reads).
    public var storedBytes: Int {
        switch projection {
        case .fused(let gu): return gu.storedBytes + down.storedBytes
        case .separate(let g, let u): return g.storedBytes + u.storedBytes + down.storedBytes
        }
    }

    /// h: [rows, H] → out: [rows, H]. Scratch: `gu` [rows, 2I], `m` [rows, I].
    func callAsFunction(_ h: UnsafePointer<Float>, rows: Int, gu: UnsafeMutablePointer<Float>,
                        m: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, lora: LayerLoRA?,
                        parallel: Parallel) {
        self(h, rows: rows, gu: gu, m: m, into: out, adapters: lora.map { [AdapterRows(start: 0, count: rows, lora: $0)] } ?? [],
             parallel: parallel)
    }

    /// The same over the rows of several sequences (a batched pass): the base products read each weight once
    /// for all rows; each sequence's adapter is added to its own rows only.
    func callAsFunction(_ h: UnsafePointer<Float>, rows: Int, gu: UnsafeMutablePointer<Float>,
                        m: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, adapters: [AdapterRows],
                        parallel: Parallel) {
        let inter = intermediateSize, H = down.outFeatures
        let prof = Profiler.shared
        prof.measure("gate_up") {
            switch projection {
            case .fused(let gateUp):
                gateUp(h, rows: rows, into: gu, parallel: parallel)
            case .separate(let gate, let up):
                gate(h, rows: rows, into: gu, ldy: 2 * inter, parallel: parallel)
                up(h, rows: rows, into: gu + inter, ldy: 2 * inter, parallel: parallel)
            }
            gateUpBias?.add(into: gu, rows: rows)
            for a in adapters {
                a.lora.gateUp?.add(h + a.start * H, rows: a.count, into: gu + a.start * 2 * inter, parallel: parallel)
            }
        }
        switch activation {
        case .silu:
            prof.measure("silu") { Kernels.siluGateUp(gu: gu, out: m, rows: rows, half: inter, parallel: parallel) }
        case .gelu, .geluTanh:
            prof.measure("gelu") {
                let kind: Kernels.Activation = activation == .gelu ? .gelu : .geluTanh
                for r in 0..<rows {
                    let g = gu + r * 2 * inter, mr = m + r * inter
                    Kernels.activate(kind, g, count: inter, parallel: parallel)
                    for i in 0..<inter { mr[i] = g[i] * g[inter + i] }
                }
            }
        }
        prof.measure("down") {
            down(m, rows: rows, into: out, parallel: parallel)
            downBias?.add(into: out, rows: rows)
            for a in adapters {
                a.lora.down?.add(m + a.start * inter, rows: a.count, into: out + a.start * H, parallel: parallel)
            }
        }
    }
}
