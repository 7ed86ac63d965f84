import PhiTokenizer
import XCTest

final class MediaPlaceholderTests: XCTestCase {
    func testSplitFindsImageAndAudioPlaceholders() {
        typealias S = MediaPlaceholders.Segment
        XCTAssertEqual(MediaPlaceholders.split("<|image_1|>What?"), [S.placeholder(.image), .text("What?")])
        XCTAssertEqual(MediaPlaceholders.split("a <|image_2|><|audio_1|> b"),
                       [.text("a "), .placeholder(.image), .placeholder(.audio), .text(" b")])
        XCTAssertEqual(MediaPlaceholders.split("<|image_10|>"), [.placeholder(.image)])
        // Not placeholders: no digits, other names, unterminated, non-ASCII digits.
        for s in ["<|image_|>", "<|image_x|>", "<|video_1|>", "<|image_1", "<|image_١|>", "<|end|>", "<|", ""] {
            let expected: [S] = s.isEmpty ? [] : [.text(s)]
            XCTAssertEqual(MediaPlaceholders.split(s), expected, s)
        }
        XCTAssertEqual(MediaPlaceholders.split("<|<|image_3|>"), [.text("<|"), .placeholder(.image)])
        let c = MediaPlaceholders.count(in: "<|image_1|><|image_1|> and <|audio_7|>")
        XCTAssertEqual(c.images, 2)
        XCTAssertEqual(c.audios, 1)
    }
}
