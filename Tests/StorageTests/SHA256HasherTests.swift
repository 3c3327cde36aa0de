import Hashing
import XCTest

final class SHA256HasherTests: XCTestCase {
    /// FIPS 180-2's "abc" vector, fed in pieces, and the one-shot digest agree.
    func testIncrementalDigestMatchesTheStandardVector() {
        let hasher = SHA256Hasher()
        hasher.update(Array("a".utf8))
        hasher.update(Array("bc".utf8))
        XCTAssertEqual(hasher.finalize().hexString, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Digest.sha256(Data("abc".utf8)).hexString,
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256Hasher().finalize().hexString,
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty input")
    }
}
