import Pipeline
import XCTest

final class ManifestEntryTests: XCTestCase {
    /// A failure line names its input exactly once, whether or not the error already did.
    func testErrorLinesNameTheInputOnce() {
        XCTAssertEqual(ManifestEntry.errorLine(input: "raw/f.fits", message: "raw/f.fits: no such file"),
                       "raw/f.fits: no such file")
        XCTAssertEqual(ManifestEntry.errorLine(input: "raw/f.fits", message: "failed after 4 attempts: store is down"),
                       "raw/f.fits: failed after 4 attempts: store is down")
        XCTAssertEqual(ManifestEntry.errorLine(input: "file:///d/f.fits", message: "/d/f.fits: not a FITS file"),
                       "/d/f.fits: not a FITS file", "a file:// input is named by its path, once")
        XCTAssertEqual(ManifestEntry.errorLine(input: "s3://b/f.fits", message: "line one\nline two"),
                       "s3://b/f.fits: line one line two", "one line")
    }
}
