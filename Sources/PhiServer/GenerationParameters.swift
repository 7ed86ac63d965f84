import Foundation
import PhiKit

/// The sampling fields chat and completions share, turned into engine options with the server's limits.
struct GenerationParameters {
    var maxTokens: Int?
    var temperature: Double?
    var topP: Double?
    var seed: UInt64?
    var stop: [String] = []
    var presencePenalty: Double?
    var frequencyPenalty: Double?
    var logprobs = false
    var topLogprobs = 0
    var logitBias: [Int: Float] = [:]

    /// Options for the engine. Sampling follows the model's generation_config (greedy) unless the request sets
    /// a temperature; max_tokens above the server's cap is a 400, not silently cut.
    func options(configuration c: ServerConfiguration, model: LoadedModel) throws -> GenerationOptions {
        if let m = maxTokens, m > c.maxTokens {
            throw APIError.invalid("max_tokens is \(m) but this server allows at most \(c.maxTokens)", param: "max_tokens")
        }
        var o = GenerationOptions(maxTokens: maxTokens ?? c.maxTokens)
        o.sampling = SamplingParameters(temperature: Float(temperature ?? 0), topP: Float(topP ?? 1),
                                        presencePenalty: Float(presencePenalty ?? 0),
                                        frequencyPenalty: Float(frequencyPenalty ?? 0), seed: seed)
        o.stop = stop
        o.logprobs = logprobs
        o.topLogprobs = topLogprobs
        o.logitBias = logitBias
        for id in logitBias.keys where id >= model.model.vocabularySize {
            throw APIError.invalid("logit_bias names token \(id), outside the vocabulary (\(model.model.vocabularySize))",
                                   param: "logit_bias")
        }
        return o
    }
}

extension ChatCompletionRequest {
    var parameters: GenerationParameters {
        GenerationParameters(maxTokens: maxTokens, temperature: temperature, topP: topP, seed: seed, stop: stop,
                             presencePenalty: presencePenalty, frequencyPenalty: frequencyPenalty, logprobs: logprobs,
                             topLogprobs: topLogprobs, logitBias: logitBias)
    }
}
