/// Why a JSON text was refused, and where.
public struct JSONParseError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Byte offset in the input where the problem was found.
    public let offset: Int
    public let message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(message) at byte \(offset)" }
}
