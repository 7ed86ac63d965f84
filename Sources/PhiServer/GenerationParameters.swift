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

    /// Reads the fields chat and completions parse alike: temperature, top_p, seed, stop and the penalties.
    mutating func readSampling(_ j: JSONFields) throws {
        temperature = try j.double("temperature", in: 0...2)
        topP = try j.double("top_p", in: 0...1)
        if topP == 0 { throw APIError.invalid("'top_p' must be greater than 0", param: "top_p") }
        if let s = try j.int("seed", in: Int(Int64.min)...Int(Int64.max)) { seed = UInt64(bitPattern: Int64(s)) }
        stop = try Self.stops(j)
        presencePenalty = try j.double("presence_penalty", in: -2...2)
        frequencyPenalty = try j.double("frequency_penalty", in: -2...2)
    }

    /// `stop`: a string or up to 4 strings.
    static func stops(_ j: JSONFields) throws -> [String] {
        guard j.has("stop") else { return [] }
        if let s = j.object["stop"] as? String { return [s] }
        guard let a = j.object["stop"] as? [Any], a.count <= 4, let strings = a as? [String] else {
            throw APIError.invalid("'stop' must be a string or an array of at most 4 strings", param: "stop")
        }
        return strings
    }

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
