import Foundation
import XCTest
import TestSupport
@testable import Extraction

/// Many extractions at once must give the same bits as one at a time: in parallel mode,
/// while another thread changes SEP's process-wide settings (and retries raise them), and
/// in serialized mode.
final class ConcurrencyTests: XCTestCase {
    /// 200 images: image.fits and m51 (or its generated stand-in) plus shifted, scaled and
    /// offset variants of them; nil (and every test here fails, naming the files) when
    /// image.fits is missing.
    static let images: [SkyImage]? = {
        guard let first = TestSupport.dataFile("image.fits"), let second = try? TestSupport.m51OrStandIn().url,
              let bases = try? [readFITSWithAstropy(first), readFITSWithAstropy(second)] else { return nil }
        return (0..<200).map { k in
            // m51 is ~10x slower to extract (one huge deblended galaxy): use it sparingly.
            let base = bases[k % 40 == 1 ? 1 : 0]
            return variant(of: base, k)
        }
    }()

    /// The catalogs of `images` made one at a time on this thread.
    static let serialFingerprints: [[UInt64]]? = images.map { images in
        images.map { fingerprint(try! Extractor().extract($0)) }
    }

    func testImages() throws -> [SkyImage] {
        try XCTUnwrap(Self.images, "image.fits or the m51 frame could not be read (TestSupport.dataDirectory)")
    }

    static func variant(of image: SkyImage, _ k: Int) -> SkyImage {
        let dx = k % 17, dy = (k * 7) % 23
        let scale = 1 + Float(k % 5) * 0.25, offset = Float(k % 3) * 100
        var pixels = [Float](repeating: 0, count: image.pixels.count)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let source = ((y + dy) % image.height) * image.width + (x + dx) % image.width
                pixels[y * image.width + x] = image.pixels[source] * scale + offset
            }
        }
        return try! SkyImage(width: image.width, height: image.height, pixels: pixels, label: "variant-\(k)")
    }

    /// Every value of a catalog as bits (NaN-safe, unlike ==).
    static func fingerprint(_ catalog: Catalog) -> [UInt64] {
        var bits = [UInt64(Double(catalog.backgroundLevel).bitPattern), UInt64(Double(catalog.backgroundRMS).bitPattern)]
        for (_, values) in catalog.referenceColumns.sorted(by: { $0.key < $1.key }) {
            bits += values.map(\.bitPattern)
        }
        return bits
    }

    /// Lock-protected state shared by the worker threads of one run.
    final class Shared<Value>: @unchecked Sendable {
        private let lock = NSLock()
        private var value: Value
        init(_ value: Value) { self.value = value }
        func withValue<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
    }

    /// Runs every image on `threads` threads pulling from a shared counter.
    static func extractConcurrently(_ images: [SkyImage], threads: Int) -> [Result<[UInt64], Error>] {
        let next = Shared(0)
        let results = Shared([Result<[UInt64], Error>?](repeating: nil, count: images.count))
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            let thread = Thread {
                while let index = next.withValue({ next -> Int? in
                    guard next < images.count else { return nil }
                    defer { next += 1 }
                    return next
                }) {
                    let result = Result { fingerprint(try Extractor().extract(images[index])) }
                    results.withValue { $0[index] = result }
                }
                group.leave()
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        group.wait()
        return results.withValue { $0.map { $0! } }
    }

    func assertSameAsSerial(_ results: [Result<[UInt64], Error>], indices: [Int],
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let serial = try XCTUnwrap(Self.serialFingerprints)
        for (position, index) in indices.enumerated() {
            switch results[position] {
            case .failure(let error): XCTFail("image \(index): \(error)", file: file, line: line)
            case .success(let bits):
                XCTAssertEqual(bits, serial[index], "image \(index) differs", file: file, line: line)
            }
        }
    }

    func testTwoHundredParallelExtractionsMatchSerialRuns() throws {
        let images = try testImages()
        XCTAssertEqual(SEPLibrary.shared.mode, .parallel)
        let results = Self.extractConcurrently(images, threads: 16)
        try assertSameAsSerial(results, indices: Array(images.indices))
        XCTAssertEqual(Set(try XCTUnwrap(Self.serialFingerprints)).count, images.count, "the variants really differ")
    }

    func testParallelExtractionsMatchWhileSettingsChangeAndRetriesRaiseThem() throws {
        let images = try testImages()
        let library = SEPLibrary.shared
        let savedStack = library.pixelStack, savedLimit = library.subObjectLimit, savedFactor = library.retryFactor
        defer { library.pixelStack = savedStack; library.subObjectLimit = savedLimit; library.retryFactor = savedFactor }
        // 2000 pixels suffice for image.fits but not for m51, whose extractions must retry
        // (with 16 x 2000) while other threads extract and this test's thread moves the settings.
        library.retryFactor = 16
        library.pixelStack = 2000
        let retriesBefore = library.retryCount
        let stop = Shared(false), changes = Shared(0)
        let changerDone = DispatchGroup()
        changerDone.enter()
        let changer = Thread {
            while !stop.withValue({ $0 }) {
                let even = changes.withValue { count -> Bool in
                    count += 1
                    return count % 2 == 0
                }
                library.pixelStack = even ? 3000 : 2000
                library.subObjectLimit = even ? 2048 : 1024
                usleep(200)  // a settings change every ~0.2 ms: many per extraction
            }
            library.pixelStack = 2000
            library.subObjectLimit = savedLimit
            changerDone.leave()
        }
        changer.start()
        let indices = Array(images.indices.prefix(100))
        let results = Self.extractConcurrently(indices.map { images[$0] }, threads: 12)
        stop.withValue { $0 = true }
        changerDone.wait()
        try assertSameAsSerial(results, indices: indices)
        XCTAssertGreaterThan(changes.withValue { $0 }, 10, "the settings really changed during the run")
        XCTAssertGreaterThanOrEqual(library.retryCount - retriesBefore, 3, "the m51 variants retried")
        XCTAssertEqual(library.pixelStack, 2000, "retries restored the setting they raised")
    }

    func testSerializedModeMatchesSerialRuns() throws {
        let images = try testImages()
        let library = SEPLibrary.shared
        library.mode = .serialized
        defer { library.mode = .parallel }
        let indices = Array(images.indices.prefix(40))
        let results = Self.extractConcurrently(indices.map { images[$0] }, threads: 8)
        try assertSameAsSerial(results, indices: indices)
    }
}
