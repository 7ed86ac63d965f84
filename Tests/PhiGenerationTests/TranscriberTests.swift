import PhiKit
import XCTest

final class TranscriberTests: XCTestCase {
    /// Speech-like bursts separated by pauses: cuts land inside pauses, pieces tile the input exactly.
    func testSilenceSplitterCutsInPausesAndCoversEverything() {
        let rate = 1000
        var samples: [Float] = []
        var pauses: [Range<Int>] = []
        var rng = SeededRandom(seed: 3)
        for i in 0..<12 {
            let burst = (7 + i % 3) * rate
            samples += (0..<burst).map { _ in Float(Double(rng.next() % 2000) / 1000 - 1) * 0.5 }
            let pause = rate / 2
            pauses.append(samples.count..<(samples.count + pause))
            samples += [Float](repeating: 0, count: pause)
        }
        let pieces = SilenceSplitter.chunks(samples: samples, sampleRate: rate, maxSeconds: 30, minSeconds: 10)
        XCTAssertGreaterThan(pieces.count, 2)
        XCTAssertEqual(pieces.first?.lowerBound, 0)
        XCTAssertEqual(pieces.last?.upperBound, samples.count)
        for (a, b) in zip(pieces, pieces.dropFirst()) {
            XCTAssertEqual(a.upperBound, b.lowerBound)
            XCTAssertTrue(pauses.contains { $0.contains(a.upperBound) }, "cut at \(a.upperBound) is not in a pause")
        }
        for p in pieces { XCTAssertLessThanOrEqual(p.count, 30 * rate) }
        XCTAssertEqual(SilenceSplitter.chunks(samples: [Float](repeating: 0.1, count: 500), sampleRate: rate), [0..<500])
        XCTAssertEqual(SilenceSplitter.chunks(samples: [], sampleRate: rate), [])
    }

    /// The stitching Transcriber and the server share: leading spaces of a piece dropped, one space between
    /// pieces (none for a silent piece), segment times from the sample ranges.
    func testStitcherJoinsPiecesWithTimes() {
        var st = TranscriptStitcher(sampleRate: 16_000)
        var shown = ""
        for t in [" ", " Hello", " there."] { shown += st.add(t) }
        st.endPiece(samples: 0..<32_000, tokens: [1, 2, 3])
        for t in ["  "] { shown += st.add(t) }
        st.endPiece(samples: 32_000..<40_000, tokens: [4])
        for t in [" General", " Kenobi. "] { shown += st.add(t) }
        st.endPiece(samples: 40_000..<56_000, tokens: [5, 6])
        XCTAssertEqual(shown, "Hello there. General Kenobi. ")
        XCTAssertEqual(st.text, "Hello there. General Kenobi.")
        XCTAssertEqual(st.segments, [
            TranscriptSegment(id: 0, start: 0, end: 2, text: "Hello there.", tokens: [1, 2, 3]),
            TranscriptSegment(id: 1, start: 2, end: 2.5, text: "", tokens: [4]),
            TranscriptSegment(id: 2, start: 2.5, end: 3.5, text: "General Kenobi.", tokens: [5, 6]),
        ])
    }

    /// A recording is resampled to 16 kHz and cut; nothing long enough to transcribe is an error, not a crash.
    func testSplitResamplesAndRejectsSilenceShorterThanAFrame() throws {
        let clip = AudioClip(sampleRate: 8000, samples: [Float](repeating: 0.1, count: 8000 * 3))
        let r = try Transcriber.split(clip, options: TranscriptionOptions())
        XCTAssertEqual(r.sampleRate, 16_000)
        XCTAssertEqual(r.pieces, [0..<r.samples.count])
        XCTAssertEqual(r.duration, 3, accuracy: 0.01)
        XCTAssertThrowsError(try Transcriber.split(AudioClip(sampleRate: 16_000, samples: [0, 0, 0]), options: TranscriptionOptions()))
    }

    func testSubtitleAndJSONShapes() throws {
        let t = Transcript(text: "Hello there. General Kenobi.",
                           segments: [TranscriptSegment(id: 0, start: 0, end: 2.5, text: "Hello there.", tokens: [1, 2]),
                                      TranscriptSegment(id: 1, start: 2.5, end: 3661.0456, text: "General Kenobi.", tokens: [3])],
                           duration: 3661.0456, language: "English", task: "transcribe", seconds: 1)
        XCTAssertEqual(try TranscriptFormat.srt.render(t),
                       "1\n00:00:00,000 --> 00:00:02,500\nHello there.\n\n2\n00:00:02,500 --> 01:01:01,046\nGeneral Kenobi.\n")
        XCTAssertEqual(try TranscriptFormat.vtt.render(t),
                       "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello there.\n\n00:00:02.500 --> 01:01:01.046\nGeneral Kenobi.\n")
        XCTAssertEqual(try TranscriptFormat.text.render(t), "Hello there. General Kenobi.\n")
        let j = try JSONSerialization.jsonObject(with: Data(try TranscriptFormat.verbose_json.render(t).utf8)) as? [String: Any]
        XCTAssertEqual(j?["text"] as? String, t.text)
        XCTAssertEqual(j?["language"] as? String, "English")
        XCTAssertEqual((j?["segments"] as? [[String: Any]])?.count, 2)
        let plain = try JSONSerialization.jsonObject(with: Data(try TranscriptFormat.json.render(t).utf8)) as? [String: Any]
        XCTAssertEqual(plain?.keys.sorted(), ["text"])
    }
}
