import ArgumentParser
import Foundation
import PhiKit
import PhiWeights

/// Quantizes a Hugging Face folder once into a folder that then loads in seconds.
struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantize a Hugging Face model folder once; the output folder loads like the original.",
        discussion: """
        Every linear layer is stored in TYPE blocks (GGML layouts); the output head goes to Q6_K for 4-bit
        types; norms and embeddings stay as stored. The output folder holds the original config and
        tokenizer files plus \(WeightQuantizer.folderFileName).
        """)

    @Option(help: "Model folder (Hugging Face layout), or a hub id.")
    var model: String
    @Option(name: .customLong("type"), help: ArgumentHelp(QuantizeHelp.folderType))
    var type: String
    @Option(help: "Output folder (created).")
    var out: String

    func run() throws {
        try runCLI {
            guard let q = LoadQuantization(name: type), let dtype = q.dtype else {
                throw ValidationError("unknown --type \(type): use \(QuantizeHelp.quantizedTypes)")
            }
            var src = URL(fileURLWithPath: (model as NSString).expandingTildeInPath)
            if !FileManager.default.fileExists(atPath: src.path), HubDownloader.isRepositoryID(model) {
                src = try HubDownloader().snapshot(repo: model, progress: Console.downloadProgress)
            }
            if src.pathExtension.lowercased() == "gguf" {
                throw CLIError("phi4 quantize reads Hugging Face folders; a .gguf is requantized at load time with --quantize \(type) (run, chat, bench, perplexity)")
            }
            let dst = URL(fileURLWithPath: (out as NSString).expandingTildeInPath)
            // Any decoder-only architecture of the registry; Phi-4-multimodal's encoders and adapters are not
            // written to model.gguf, so it is quantized at load time instead.
            let architecture = try ModelRegistry.architecture(folder: src)
            guard architecture.name != ModelArchitecture.phi4MM.name else {
                throw CLIError("phi4 quantize writes language models; quantize Phi-4-multimodal at load time with --quantize \(type) (run, chat, bench)")
            }
            let tied = try ModelFolder.configHeader(src).tieWordEmbeddings ?? false
            let store = try WeightStore(directory: src)
            let quantizer = WeightQuantizer(type: dtype)
            try FileManager.default.createDirectory(at: dst, withIntermediateDirectories: true)

            // Matrices of the linear layers (and the head, tied or not) are quantized; the rest is copied.
            var plan: [(name: String, source: String, quantize: Bool)] = []
            for name in store.names {
                let isMatrix = name.hasSuffix("_proj.weight") || name == DecoderKeys.lmHead
                plan.append((name, name, isMatrix))
            }
            if tied && !store.contains(DecoderKeys.lmHead) {
                plan.append((DecoderKeys.lmHead, DecoderKeys.embedTokens, true))
            }
            var writer = GGUFWriter()
            writer.set("general.architecture", .string("phikit-hf"))
            writer.set("phikit.quantization", .string(dtype.rawValue))
            var outputs: [String: Tensor] = [:]
            for (i, p) in plan.enumerated() {
                let t = try store.tensor(p.source)
                let o = p.quantize ? try quantizer.transform(p.name, t) : t
                outputs[p.name] = o
                writer.addTensor(GGUFWriter.TensorLayout(name: p.name, dtype: o.dtype, shape: o.shape))
                FileHandle.standardError.write(Data("\rquantizing \(i + 1)/\(plan.count) \(p.name)          ".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            try writer.write(to: dst.appendingPathComponent(WeightQuantizer.folderFileName)) { layout in
                guard let t = outputs[layout.name] else { return [] }
                return [UInt8](UnsafeRawBufferPointer(start: t.data, count: t.byteCount))
            }
            let fm = FileManager.default
            for f in try fm.contentsOfDirectory(atPath: src.path)
            where f.hasSuffix(".json") && !f.hasPrefix("model.safetensors") && !f.hasPrefix("reference") {
                try? fm.removeItem(at: dst.appendingPathComponent(f))
                try fm.copyItem(at: src.appendingPathComponent(f), to: dst.appendingPathComponent(f))
            }
            Console.error("wrote \(dst.path) (\(dtype.rawValue))")
        }
    }
}
