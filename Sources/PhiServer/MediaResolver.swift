import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches and decodes the media parts of a chat request: data: URLs and base64 always; http(s) and file URLs
/// only when the operator allows remote media. Sizes are checked before anything is decoded.
struct MediaResolver {
    let configuration: ServerConfiguration

    func resolve(_ request: ChatCompletionRequest) async throws -> EngineBridge.Media {
        var media = EngineBridge.Media()
        for (i, m) in request.messages.enumerated() {
            for (k, p) in m.parts.enumerated() {
                let param = "messages[\(i)].content[\(k)]"
                switch p {
                case .text: continue
                case .image(let url):
                    guard media.images.count < configuration.maxImages else {
                        throw APIError.invalid("too many images: this server takes at most \(configuration.maxImages) per request",
                                               param: param, code: "too_many_images")
                    }
                    media.images.append(try await image(url, param: param + ".image_url.url"))
                case .audio(let b64, let format):
                    if let f = format?.lowercased(), !["wav", "flac"].contains(f) {
                        throw APIError.invalid("unsupported audio format '\(f)' (wav, flac)", param: param + ".input_audio.format")
                    }
                    media.audios.append(try base64(b64, param: param + ".input_audio.data"))
                }
            }
        }
        return media
    }

    func base64(_ s: String, param: String) throws -> Data {
        guard let d = Data(base64Encoded: s, options: .ignoreUnknownCharacters), !d.isEmpty else {
            throw APIError.invalid("'\(param)' is not valid base64", param: param, code: "invalid_base64")
        }
        return d
    }

    func image(_ url: String, param: String) async throws -> Data {
        if url.hasPrefix("data:") {
            guard let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
                throw APIError.invalid("an image data: URL must be base64 (data:image/png;base64,…)", param: param)
            }
            return try base64(String(url[url.index(after: comma)...]), param: param)
        }
        guard configuration.allowRemoteMedia else {
            throw APIError.invalid("only data: URLs are accepted for images on this server (the operator can allow http(s) and file URLs with --allow-remote-media)",
                                   param: param, code: "remote_media_disabled")
        }
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased() else {
            throw APIError.invalid("'\(param)' is not a valid URL", param: param)
        }
        let limit = configuration.maxBodyBytes
        switch scheme {
        case "file":
            let size = (try? FileManager.default.attributesOfItem(atPath: u.path)[.size] as? Int) ?? nil
            guard let size else { throw APIError.invalid("cannot read \(u.path)", param: param) }
            guard size <= limit else { throw APIError.invalid("the image file is over \(limit) bytes", param: param) }
            guard let d = try? Data(contentsOf: u) else { throw APIError.invalid("cannot read \(u.path)", param: param) }
            return d
        case "http", "https":
            let (d, response) = try await URLSession.shared.data(from: u)
            guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
                throw APIError.invalid("fetching the image failed", param: param)
            }
            guard d.count <= limit else { throw APIError.invalid("the image is over \(limit) bytes", param: param) }
            return d
        default:
            throw APIError.invalid("unsupported URL scheme '\(scheme)' (data, http, https, file)", param: param)
        }
    }
}
