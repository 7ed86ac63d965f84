import Foundation
import PhiKit

extension APIError {
    /// The HTTP meaning of an error from the engine, the prompt or the media: client faults are 400s,
    /// a full queue is 503, anything unexpected is a 500.
    static func from(_ error: Error) -> APIError {
        switch error {
        case let e as APIError: return e
        case let e as EngineError:
            if case .exceedsMemoryBudget = e {
                return .invalid(e.description, param: "max_tokens", code: "exceeds_memory_budget")
            }
            var a = APIError(.serviceUnavailable, e.description, code: e == .shuttingDown ? "shutting_down" : "queue_full")
            a.headers[.retryAfter] = "1"
            return a
        case let e as GenerationError:
            switch e {
            case .promptTooLong: return .invalid(e.description, param: "messages", code: "context_length_exceeded")
            case .cancelled: return APIError(.init(code: 499, reasonPhrase: "Client Closed Request"), e.description)
            default: return .invalid(e.description)
            }
        case let e as MultimodalError: return .invalid(e.description, param: "messages", code: "invalid_media")
        case let e as ImageError: return .invalid("invalid image: \(e.description)", param: "messages", code: "invalid_image")
        case let e as AudioError: return .invalid("invalid audio: \(e.description)", param: "messages", code: "invalid_audio")
        case let e as TokenizerError: return .invalid(e.description)
        case let e as ConstraintError: return .invalid(e.description, param: "response_format", code: "unsupported_constraint")
        default: return APIError(.internalServerError, "internal error: \(error)")
        }
    }
}
