import Foundation

/// Puts the texts of a recording's pieces together, as `Transcriber` and the server's transcription route both
/// do: a piece's leading spaces are dropped, pieces are joined by one space, and each piece becomes a segment
/// with its start and end times. Feed a piece's token texts to `add` as they come (it returns what to show), then
/// close the piece with `endPiece`.
public struct TranscriptStitcher: Sendable {
    public let sampleRate: Int
    /// The pieces so far, trimmed and joined by single spaces (empty pieces leave no trace).
    public private(set) var text = ""
    public private(set) var segments: [TranscriptSegment] = []
    private var pieceText = ""
    private var leading = true

    public init(sampleRate: Int) {
        self.sampleRate = sampleRate
    }

    /// The text to show for one token of the current piece: its leading spaces dropped while the piece has no
    /// text yet, with the space that separates it from the previous piece in front of its first text.
    public mutating func add(_ tokenText: String) -> String {
        guard leading else {
            pieceText += tokenText
            return tokenText
        }
        let t = String(tokenText.drop { $0 == " " })
        guard !t.isEmpty else { return "" }
        leading = false
        pieceText += t
        return (text.isEmpty ? "" : " ") + t
    }

    /// Closes the current piece, which covered `samples` (indices at `sampleRate`) and generated `tokens`.
    public mutating func endPiece(samples: Range<Int>, tokens: [Int]) {
        let trimmed = pieceText.trimmingCharacters(in: .whitespacesAndNewlines)
        segments.append(TranscriptSegment(id: segments.count, start: Double(samples.lowerBound) / Double(sampleRate),
                                          end: Double(samples.upperBound) / Double(sampleRate), text: trimmed, tokens: tokens))
        if !trimmed.isEmpty { text += (text.isEmpty ? "" : " ") + trimmed }
        pieceText = ""
        leading = true
    }
}
