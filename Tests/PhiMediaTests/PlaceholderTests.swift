import XCTest
@testable import PhiMedia
final class PlaceholderTests: XCTestCase {}
