import ArgumentParser
import Foundation
import PhiKit

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk with the model, turn by turn. /reset starts over, /exit quits.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @Option(help: "System message.")
    var system: String?
    @OptionGroup var inputLimits: InputLimitOptions

    func run() throws {
        try runCLI {
            let options = try sampling.options()
            if let system { try inputLimits.check(system, "the system message") }
            let loaded = try model.load()
            let generator = loaded.makeGenerator()
            // One cache for the whole conversation: each turn only computes the new tokens.
            let cache = loaded.model.makeCache(maxLength: nil)
            var messages: [ChatMessage] = []
            if let system { messages.append(ChatMessage(role: "system", content: system, tools: nil)) }
            let initial = messages
            Console.error("Chatting with \(loaded.directory.lastPathComponent). /reset starts over, /exit quits.")
            while true {
                Console.write("> ")
                guard let line = readLine(strippingNewline: true) else { Console.write("\n"); break }
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty { continue }
                do { try inputLimits.check(line, "the line") } catch { Console.error("error: \(error)"); continue }
                if text == "/exit" || text == "/quit" { break }
                if text == "/reset" {
                    messages = initial
                    cache.reset()
                    Console.error("(conversation cleared)")
                    continue
                }
                messages.append(ChatMessage(role: "user", content: line, tools: nil))
                let ids = loaded.chatFormat.encode(messages, addGenerationPrompt: true)
                do {
                    let r = try generator.generate(prompt: ids, options: options, cache: cache) { tok in
                        Console.write(tok.text)
                        return true
                    }
                    Console.write("\n")
                    messages.append(ChatMessage(role: "assistant", content: r.text, tools: nil))
                } catch {
                    Console.error("error: \(error)")
                    messages.removeLast()
                }
            }
        }
    }
}
