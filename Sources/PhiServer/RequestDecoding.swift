import Foundation
import NIOCore

/// The request-body decoders of the HTTP routes, callable with no server, engine or model: tools/fuzz feeds them
/// raw bytes. Each runs exactly what its route runs on the body before anything needs a model, and throws the
/// `APIError` the route would answer with.
public enum RequestDecoding {
    /// POST /v1/chat/completions: JSON, messages and their parts, tools, tool_choice, response_format, sampling
    /// fields, and the tool list as the prompt pastes it.
    public static func chatCompletion(_ body: Data) throws {
        let chat = try ChatCompletionRequest(JSONFields.parse(body))
        _ = chat.parameters
        _ = EngineBridge.toolList(chat.tools).json
    }

    /// POST /v1/completions.
    public static func completion(_ body: Data) throws {
        _ = try CompletionRequest(JSONFields.parse(body))
    }

    /// POST /v1/audio/transcriptions' multipart/form-data body, with its Content-Type header.
    public static func multipartForm(_ body: Data, contentType: String?) throws {
        let form = try MultipartForm(body: ByteBuffer(bytes: body), contentType: contentType)
        _ = form.file("file")?.data.count
        _ = form.values("timestamp_granularities[]", "timestamp_granularities")
        _ = form.text("response_format")
    }
}
