import XCTest
@testable import Extraction

/// Asserts that two float64 columns have the same bit patterns, naming the first difference.
func assertBitIdentical(_ ours: [Double], _ reference: [Double], _ name: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    guard ours.count == reference.count else {
        XCTFail("\(name): \(ours.count) values, reference has \(reference.count)", file: file, line: line)
        return
    }
    let differing = ours.indices.filter { ours[$0].bitPattern != reference[$0].bitPattern }
    if let first = differing.first {
        XCTFail("\(name): \(differing.count) of \(ours.count) differ; first at row \(first): "
                + "\(ours[first]) vs reference \(reference[first])", file: file, line: line)
    }
}

extension Catalog {
    /// Every raw SEP value in the catalog as float64 columns keyed like the Python reference.
    var referenceColumns: [String: [Double]] {
        let objects = sources.map(\.object)
        let photometry = sources.map(\.photometry)
        var columns: [String: [Double]] = [
            "x": objects.map(\.x), "y": objects.map(\.y),
            "x2": objects.map(\.x2), "y2": objects.map(\.y2), "xy": objects.map(\.xy),
            "a": objects.map { Double($0.a) }, "b": objects.map { Double($0.b) },
            "theta": objects.map { Double($0.theta) },
            "cxx": objects.map { Double($0.cxx) }, "cyy": objects.map { Double($0.cyy) },
            "cxy": objects.map { Double($0.cxy) },
            "npix": objects.map { Double($0.npix) }, "flux": objects.map { Double($0.flux) },
            "peak": objects.map { Double($0.peak) },
            "xmin": objects.map { Double($0.xmin) }, "xmax": objects.map { Double($0.xmax) },
            "ymin": objects.map { Double($0.ymin) }, "ymax": objects.map { Double($0.ymax) },
            "flag": objects.map { Double($0.flag) },
            "kronrad": photometry.map(\.kronRadius), "krflag": photometry.map { Double($0.kronFlag) },
            "auto": photometry.map(\.auto.sum), "autoerr": photometry.map(\.auto.error),
            "autoflag": photometry.map { Double($0.auto.flag) },
            "autocircle": photometry.map { $0.autoIsCircle ? 1 : 0 },
            "fluxradius": photometry.map(\.fluxRadius), "frflag": photometry.map { Double($0.fluxRadiusFlag) },
            "xwin": photometry.map(\.xWindowed), "ywin": photometry.map(\.yWindowed),
            "winflag": photometry.map { Double($0.windowedFlag) },
        ]
        for index in apertureRadii.indices {
            columns["aper\(index)"] = photometry.map { $0.apertures[index].sum }
            columns["apererr\(index)"] = photometry.map { $0.apertures[index].error }
            columns["aperflag\(index)"] = photometry.map { Double($0.apertures[index].flag) }
        }
        return columns
    }
}

/// Runs our wrapper on the reference's pixels and asserts every column is bit-identical.
@discardableResult
func assertMatchesReference(_ reference: PythonReference, parameters: ExtractionParameters = ExtractionParameters(),
                            maskedColumns: Int = 0,
                            file: StaticString = #filePath, line: UInt = #line) throws -> Catalog {
    let mask: SkyImage.Mask? = maskedColumns > 0
        ? .booleans((0..<reference.pixels.count).map { $0 % reference.width < maskedColumns }) : nil
    let image = try SkyImage(width: reference.width, height: reference.height, pixels: reference.pixels, mask: mask)
    let catalog = try Extractor(parameters: parameters).extract(image)
    XCTAssertEqual(catalog.count, reference.count, "object count", file: file, line: line)
    XCTAssertEqual(Double(catalog.backgroundLevel).bitPattern, reference.backgroundLevel.bitPattern,
                   "global background", file: file, line: line)
    XCTAssertEqual(Double(catalog.backgroundRMS).bitPattern, reference.backgroundRMS.bitPattern,
                   "global rms", file: file, line: line)
    guard catalog.count == reference.count else { return catalog }
    for (name, values) in catalog.referenceColumns.sorted(by: { $0.key < $1.key }) {
        assertBitIdentical(values, reference.column(name), name, file: file, line: line)
    }
    return catalog
}
