import Foundation
import PhiJSON
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

public enum HubError: Error, CustomStringConvertible {
    case invalidRepository(String)
    case http(url: String, status: Int)
    case transfer(url: String, reason: String)
    case missingFile(repo: String, file: String)
    case malformedFile(repo: String, file: String, reason: String)

    public var description: String {
        switch self {
        case .invalidRepository(let r): return "'\(r)' is neither a folder nor a Hugging Face repository id (owner/name)"
        case .http(let u, let s):
            let hint = s == 401 || s == 403 ? " (gated or private: set HF_TOKEN)" : s == 404 ? " (not found)" : ""
            return "download of \(u) failed with HTTP \(s)\(hint)"
        case .transfer(let u, let r): return "download of \(u) failed: \(r)"
        case .missingFile(let repo, let f): return "\(repo) has no \(f)"
        case .malformedFile(let repo, let f, let r): return "\(repo): \(f) is malformed: \(r)"
        }
    }
}

/// Fetches a model repository from the Hugging Face hub into the standard cache layout
/// (`$HF_HUB_CACHE` or `$HF_HOME/hub` or `~/.cache/huggingface/hub`), reusing what huggingface-cli
/// already downloaded there. `HF_ENDPOINT` and `HF_TOKEN` are honoured as by the Python client.
public struct HubDownloader: Sendable {
    public var endpoint: URL
    public var cacheDirectory: URL
    public var token: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        endpoint = URL(string: environment["HF_ENDPOINT"] ?? "https://huggingface.co") ?? URL(fileURLWithPath: "/")
        if let c = environment["HF_HUB_CACHE"] {
            cacheDirectory = URL(fileURLWithPath: c)
        } else if let h = environment["HF_HOME"] {
            cacheDirectory = URL(fileURLWithPath: h).appendingPathComponent("hub")
        } else {
            cacheDirectory = FileManager.default.homeDirectoryForCurrentUser
                .appendingPathComponent(".cache/huggingface/hub")
        }
        token = environment["HF_TOKEN"]
    }

    /// Whether `name` looks like `owner/name` (and so may be fetched).
    public static func isRepositoryID(_ name: String) -> Bool {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let ok = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        return parts.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." && $0.unicodeScalars.allSatisfy(ok.contains) }
    }

    /// The local folder of `repo` at `revision`, downloading whatever is missing.
    /// `progress(file, bytesSoFar, totalBytes)` is called as data arrives.
    public func snapshot(repo: String, revision: String = "main",
                         progress: @escaping @Sendable (String, Int64, Int64?) -> Void = { _, _, _ in }) throws -> URL {
        guard Self.isRepositoryID(repo) else { throw HubError.invalidRepository(repo) }
        let repoDir = cacheDirectory.appendingPathComponent("models--" + repo.replacingOccurrences(of: "/", with: "--"))
        // A snapshot the Python client made: refs/<revision> names the commit folder.
        var snapshotName = revision
        if let ref = try? String(contentsOf: repoDir.appendingPathComponent("refs/\(revision)"), encoding: .utf8) {
            let commit = ref.trimmingCharacters(in: .whitespacesAndNewlines)
            if Self.isSafeComponent(commit) { snapshotName = commit }
        }
        guard Self.isSafeComponent(snapshotName) else { throw HubError.invalidRepository("\(repo)@\(revision)") }
        let dir = repoDir.appendingPathComponent("snapshots").appendingPathComponent(snapshotName)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)

        func fetch(_ file: String, required: Bool) throws -> Bool {
            let dest = dir.appendingPathComponent(file)
            if FileManager.default.fileExists(atPath: dest.path) { return true }
            let url = endpoint.appendingPathComponent(repo).appendingPathComponent("resolve")
                .appendingPathComponent(revision).appendingPathComponent(file)
            do {
                try download(url, to: dest, name: file, progress: progress)
                return true
            } catch HubError.http(_, 404) where !required {
                return false
            } catch HubError.http(let u, 404) {
                _ = u
                throw HubError.missingFile(repo: repo, file: file)
            }
        }
        _ = try fetch("config.json", required: true)
        for f in ["generation_config.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"] {
            _ = try fetch(f, required: false)
        }
        _ = try fetch("tokenizer.json", required: true)
        if try fetch("model.safetensors.index.json", required: false) {
            let indexURL = dir.appendingPathComponent("model.safetensors.index.json")
            let index: HubWeightIndex
            do {
                index = try PhiJSONDecoder().decode(HubWeightIndex.self, from: try Data(contentsOf: indexURL))
            } catch {
                throw HubError.malformedFile(repo: repo, file: indexURL.lastPathComponent, reason: PhiJSONDecoder.message(for: error))
            }
            let shards = Set(index.weightMap.values).sorted()
            for shard in shards {
                guard Self.isSafeComponent(shard) else { throw HubError.invalidRepository("\(repo): shard name '\(shard)'") }
                _ = try fetch(shard, required: true)
            }
        } else {
            _ = try fetch("model.safetensors", required: true)
        }
        return dir
    }

    static func isSafeComponent(_ s: String) -> Bool {
        !s.isEmpty && s != "." && s != ".." && !s.contains("/") && !s.contains("\\") && !s.contains("\0")
    }

    /// Streams `url` into `dest` through a `.incomplete` file renamed at the end, so an interrupted
    /// download never leaves a truncated file under the final name.
    func download(_ url: URL, to dest: URL, name: String,
                  progress: @escaping @Sendable (String, Int64, Int64?) -> Void) throws {
        let partial = dest.appendingPathExtension("incomplete")
        try? FileManager.default.removeItem(at: partial)
        if url.isFileURL {
            // An offline mirror (HF_ENDPOINT=file:///path): same layout, copied instead of fetched.
            guard FileManager.default.fileExists(atPath: url.path) else { throw HubError.http(url: url.absoluteString, status: 404) }
            do {
                try FileManager.default.copyItem(at: url, to: partial)
                let size = Int64((try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? Int) ?? 0)
                progress(name, size, size)
                try? FileManager.default.removeItem(at: dest)
                try FileManager.default.moveItem(at: partial, to: dest)
            } catch {
                try? FileManager.default.removeItem(at: partial)
                throw HubError.transfer(url: url.absoluteString, reason: "\(error)")
            }
            return
        }
        guard FileManager.default.createFile(atPath: partial.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: partial.path) else {
            throw HubError.transfer(url: url.absoluteString, reason: "cannot write \(partial.path)")
        }
        var request = URLRequest(url: url)
        if let token, url.scheme == "https" { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let delegate = StreamingDelegate(handle: handle, name: name, progress: progress)
        let session = URLSession(configuration: .default, delegate: delegate, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        session.dataTask(with: request).resume()
        delegate.done.wait()
        try? handle.close()
        if let error = delegate.failure {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
        try? FileManager.default.removeItem(at: dest)
        try FileManager.default.moveItem(at: partial, to: dest)
    }
}

private final class StreamingDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let handle: FileHandle
    let name: String
    let progress: @Sendable (String, Int64, Int64?) -> Void
    let done = DispatchSemaphore(value: 0)
    var failure: Error?
    var received: Int64 = 0
    var expected: Int64?

    init(handle: FileHandle, name: String, progress: @escaping @Sendable (String, Int64, Int64?) -> Void) {
        self.handle = handle
        self.name = name
        self.progress = progress
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            failure = HubError.http(url: response.url?.absoluteString ?? name, status: http.statusCode)
            completionHandler(.cancel)
            return
        }
        expected = response.expectedContentLength >= 0 ? response.expectedContentLength : nil
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil else { return }
        do { try handle.write(contentsOf: data) } catch {
            failure = HubError.transfer(url: name, reason: "\(error)")
            dataTask.cancel()
            return
        }
        received += Int64(data.count)
        progress(name, received, expected)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let error, failure == nil {
            let url = task.originalRequest?.url?.absoluteString ?? name
            if (error as NSError).code == NSURLErrorFileDoesNotExist { // a file:// mirror: same as HTTP 404
                failure = HubError.http(url: url, status: 404)
                done.signal()
                return
            }
            failure = HubError.transfer(url: task.originalRequest?.url?.absoluteString ?? name, reason: error.localizedDescription)
        }
        done.signal()
    }
}
