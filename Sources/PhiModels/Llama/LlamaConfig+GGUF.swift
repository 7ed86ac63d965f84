import Foundation
import PhiKernels
import PhiWeights

extension LlamaConfig {
    /// Hyperparameters of a llama.cpp `llama` GGUF (keys `llama.*`); q/k rows are permuted for
    /// interleaved rotary pairs, as llama.cpp's converter writes them.
    public init(gguf f: GGUFFile, vocabSize: Int) throws {
        let a = "llama"
        let hidden = try f.int("\(a).embedding_length")
        let heads = try f.int("\(a).attention.head_count")
        guard heads > 0, hidden > 0 else {
            throw ModelError.malformedConfig(file: f.path, reason: "embedding_length \(hidden) / head_count \(heads)")
        }
        self.init(vocabSize: vocabSize, hiddenSize: hidden,
                  intermediateSize: try f.int("\(a).feed_forward_length"),
                  numHiddenLayers: try f.int("\(a).block_count"),
                  numAttentionHeads: heads,
                  numKeyValueHeads: try f.int("\(a).attention.head_count_kv", default: heads),
                  headDim: try f.int("\(a).rope.dimension_count", default: hidden / heads),
                  rmsNormEps: try f.float("\(a).attention.layer_norm_rms_epsilon"),
                  ropeTheta: Double(try f.float("\(a).rope.freq_base", default: 10000)),
                  maxPositionEmbeddings: try f.int("\(a).context_length"),
                  tieWordEmbeddings: !f.contains("output.weight"), ropeInterleaved: true)
        if f.hasKey("\(a).rope.scaling.type") {
            throw ModelError.unsupported("\(f.path): llama rope scaling '\(try f.string("\(a).rope.scaling.type"))' is not supported")
        }
        guard !f.contains("rope_freqs.weight") else {
            throw ModelError.unsupported("\(f.path): Llama-3.1-style rope_freqs are not supported")
        }
        // Sizes are checked here, naming the file and the keys, before any tensor is bound (issue 10: a head
        // count of 2^59 + 3 whose product with the head size wrapped to the real tensor sizes).
        var keys = DecoderDimensions.ggufKeys(a)
        keys["head_dim"] = "\(a).rope.dimension_count"
        try validate(file: f.path, ggufKeys: keys)
    }
}
