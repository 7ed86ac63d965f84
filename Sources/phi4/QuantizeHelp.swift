import PhiKit

/// The help texts that name quantization types, built from `LoadQuantization.targetNames` so that a type added to
/// the C type table shows up in `--help` without editing them.
enum QuantizeHelp {
    /// The quantized targets, "q8_0, q4_0, q5_0, q4_k or q6_k" (f32 apart: it is no quantization).
    static var quantizedTypes: String {
        let names = LoadQuantization.targetNames.filter { $0 != "f32" }
        guard let last = names.last else { return "" }
        return names.count == 1 ? last : names.dropLast().joined(separator: ", ") + " or " + last
    }

    static let shorthands = "q4 = q4_0, q8 = q8_0"

    /// `--quantize` of the model commands.
    static var loadTime: String {
        "Quantize the weights at load time: \(quantizedTypes) (\(shorthands)); already-quantized (GGUF) weights are requantized. f32 dequantizes every matrix instead (a reference for measuring quantization error)."
    }

    /// `phi4 bench --quantize`.
    static var bench: String { "Quantize the weights at load time: \(quantizedTypes) (\(shorthands))." }

    /// `phi4 perplexity --compare-quantize`.
    static var reference: String {
        "How to load the reference: f32 (dequantize every matrix), \(quantizedTypes) (\(shorthands); default: as stored)."
    }

    /// `phi4 quantize --type`.
    static var folderType: String { "\(quantizedTypes) (\(shorthands)); f32 writes a float copy." }
}
