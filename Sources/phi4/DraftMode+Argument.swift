import ArgumentParser
import PhiKit

/// `--draft none|lookup`.
extension DraftMode: ExpressibleByArgument {}
