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
            let builder = loaded.promptBuilder
            var messages: [PromptMessage] = []
            if let system { messages.append(.system(system)) }
            let initial = messages
            Console.error("Chatting with \(loaded.directory.lastPathComponent). /reset starts over, /exit quits.")
            var input = LineReader(limit: inputLimits.maxPromptBytes)
            while true {
                Console.write("> ")
                guard let next = input.next() else { Console.write("\n"); break }
                guard case .text(let line) = next else {
                    if case .tooLong(let n) = next {
                        Console.error("error: the line is \(n) bytes, above the --max-prompt-bytes limit of \(inputLimits.maxPromptBytes)")
                    }
                    continue
                }
                let text = line.trimmingCharacters(in: .whitespaces)
                if text.isEmpty { continue }
                if text == "/exit" || text == "/quit" { break }
                if text == "/reset" {
                    messages = initial
                    cache.reset()
                    Console.error("(conversation cleared)")
                    continue
                }
                messages.append(.user(line))
                do {
                    let prompt = try builder.build(messages)
                    let r = try generator.generate(prompt: prompt.tokens, options: options, cache: cache,
                                                   conditioning: prompt.conditioning) { tok in
                        Console.write(tok.text)
                        return true
                    }
                    Console.write("\n")
                    messages.append(.assistant(r.text))
                } catch {
                    Console.error("error: \(error)")
                    messages.removeLast()
                }
            }
        }
    }
}
