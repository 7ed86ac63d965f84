import ArgumentParser
import Foundation
import PhiKit

/// `phi4 run` flags that constrain the output (grammar-constrained decoding).
struct ConstraintOptions: ParsableArguments {
    @Option(name: .customLong("json-schema"), help: "JSON schema file: the reply is JSON valid under it (always parses).")
    var jsonSchema: String?
    @Flag(name: .customLong("json-object"), help: "The reply is a JSON object (any keys).")
    var jsonObject = false
    @Option(help: "The reply matches this regular expression in full.")
    var regex: String?
    @Option(help: "GBNF-like grammar file (start rule `root`): the reply is derived from it.")
    var grammar: String?
    @Option(name: .customLong("tool-choice"), help: "With --tools: required (a call of some declared tool), NAME (a call of that tool), auto or none (unconstrained).")
    var toolChoice: String?

    /// The constraint the flags ask for (nil: none). `tools` is the --tools list text.
    func constraint(tools: String?) throws -> Constraint? {
        func read(_ path: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
            return String(decoding: data, as: UTF8.self)
        }
        var chosen: [Constraint] = []
        if let jsonSchema { chosen.append(.jsonSchema(try read(jsonSchema))) }
        if jsonObject { chosen.append(.jsonObject) }
        if let regex { chosen.append(.regex(regex)) }
        if let grammar { chosen.append(.grammar(try read(grammar))) }
        if let choice = toolChoice, choice != "auto", choice != "none" {
            guard let tools else { throw ValidationError("--tool-choice \(choice) needs --tools") }
            chosen.append(.toolCall(tools: tools, name: choice == "required" ? nil : choice))
        }
        guard chosen.count <= 1 else {
            throw ValidationError("use one of --json-schema, --json-object, --regex, --grammar, --tool-choice")
        }
        return chosen.first
    }
}
