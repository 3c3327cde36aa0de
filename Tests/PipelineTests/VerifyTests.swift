import Engine
import Foundation
import Hashing
@testable import Pipeline
import TestSupport
import XCTest

final class VerifyTests: XCTestCase {
    private func finishedJob(_ label: String, count: Int = 4) throws -> (inputs: [InputFile], out: URL) {
        let dir = try TestSupport.makeTemporaryDirectory(label)
        let frames = try PipelineFixtures.frames(count, in: dir.appendingPathComponent("in"), seed: 57)
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
        let out = dir.appendingPathComponent("out")
        XCTAssertEqual(try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path))).status,
                       .succeeded)
        return (inputs, out)
    }

    private func verify(_ out: URL, sample: Int? = nil, seed: UInt64 = 0) throws -> VerifyReport {
        try Verifier(record: try JobRecord.load(output: out.path, settings: [:]), settings: [:], sample: sample, seed: seed,
                     parallelism: 2).run()
    }

    private func flipByte(_ path: String, at offset: Int) throws {
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        let byte = try XCTUnwrap(handle.readData(ofLength: 1).first)
        try handle.seek(toOffset: UInt64(offset))
        handle.write(Data([byte ^ 0x01]))
    }

    func testAnUntouchedJobVerifiesAndOneChangedByteNamesItsInput() throws {
        let (inputs, out) = try finishedJob("verify-byte")
        let clean = try verify(out)
        XCTAssertTrue(clean.passed, "\(clean.findings)")
        XCTAssertEqual(clean.checked, 4)

        // One byte of pixel data, well past the header.
        try flipByte(inputs[2].uri, at: 2880 * 3 + 1001)
        let report = try verify(out)
        XCTAssertFalse(report.passed)
        XCTAssertEqual(Set(report.findings.map(\.input)), [inputs[2].uri], "only the changed input is named")
        XCTAssertTrue(report.findings.contains { $0.kind == .inputChanged }, "\(report.findings)")
    }

    func testAlteredAndMissingCatalogsAreReported() throws {
        let (inputs, out) = try finishedJob("verify-catalogs")
        let names = try PipelineFixtures.manifest(in: out).map { $0.catalog! }
        try flipByte(out.appendingPathComponent(names[0]).path, at: 2880 * 3 + 17)
        try FileManager.default.removeItem(at: out.appendingPathComponent(names[3]))
        let report = try verify(out)
        XCTAssertEqual(report.findings.map(\.kind), [.catalogDiffers, .catalogMissing], "\(report.findings)")
        XCTAssertEqual(report.findings.map(\.input), [inputs[0].uri, inputs[3].uri])
        XCTAssertTrue(report.findings[0].detail.contains("changed after the job"), report.findings[0].detail)
    }

    func testASampleIsTheSameForTheSameSeedAndChecksThatManyInputs() throws {
        let items = Array(0..<100)
        let first = Verifier.choose(items, sample: 7, seed: 3)
        XCTAssertEqual(first, Verifier.choose(items, sample: 7, seed: 3))
        XCTAssertNotEqual(first, Verifier.choose(items, sample: 7, seed: 4))
        XCTAssertEqual(Set(first).count, 7)
        XCTAssertEqual(Verifier.choose(items, sample: 500, seed: 3), items)

        let (_, out) = try finishedJob("verify-sample")
        let report = try verify(out, sample: 2, seed: 9)
        XCTAssertEqual(report.checked, 2)
        XCTAssertTrue(report.passed)
    }

    func testReproducingAJobWritesByteIdenticalCatalogs() throws {
        let (_, out) = try finishedJob("reproduce-same", count: 3)
        let record = try JobRecord.load(manifest: out.appendingPathComponent("_manifest.jsonl").path, settings: [:])
        let again = out.deletingLastPathComponent().appendingPathComponent("again")
        let reproduction = Reproduction(record: record, output: again.path)
        XCTAssertEqual(try PipelineFixtures.runLocal(try reproduction.makeSpec(settings: [:])).status, .succeeded)
        let report = reproduction.compare(try PipelineFixtures.manifest(in: again))
        XCTAssertEqual(report, ReproductionReport(identical: 3, differing: []))
        for entry in record.entries {
            XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent(entry.catalog!)),
                           try Data(contentsOf: again.appendingPathComponent(entry.catalog!)))
        }
    }

    func testReproductionRefusesChangedInputsAndOtherSoftwareUnlessAllowed() throws {
        let (inputs, out) = try finishedJob("reproduce-refuse", count: 2)
        var record = try JobRecord.load(output: out.path, settings: [:])
        record.provenance.software.libraries["libsep"] = "0.9.9"
        let again = out.deletingLastPathComponent().appendingPathComponent("again").path
        XCTAssertThrowsError(try Reproduction(record: record, output: again).makeSpec(settings: [:])) { error in
            XCTAssertTrue("\(error)".contains("libsep 0.9.9, now"), "\(error)")
            XCTAssertTrue("\(error)".contains("--allow-newer"), "\(error)")
        }
        XCTAssertEqual(try Reproduction(record: record, output: again, allowNewer: true).makeSpec(settings: [:]).inputs.count, 2)

        try flipByte(inputs[1].uri, at: 2880 * 3 + 5)
        XCTAssertThrowsError(try Reproduction(record: record, output: again, allowNewer: true).makeSpec(settings: [:])) { error in
            guard case ReproductionError.inputsChanged(let lines) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(lines.count, 1)
            XCTAssertTrue(lines[0].hasPrefix(inputs[1].uri + ": its bytes changed"), lines[0])
        }
    }

    func testInputsAreCheckedAgainstAPublishedURLListEvenWhenTheJobDidNotHashThem() throws {
        let dir = try TestSupport.makeTemporaryDirectory("verify-published")
        let frames = try PipelineFixtures.frames(2, in: dir.appendingPathComponent("in"), seed: 61)
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
        let out = dir.appendingPathComponent("out")
        let spec = JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path),
                           settings: [ProvenanceSettings.inputChecksumKey: "false"])
        XCTAssertEqual(try PipelineFixtures.runLocal(spec).status, .succeeded)
        let real = Digest.sha256(try Data(contentsOf: URL(fileURLWithPath: frames[0]))).hexString
        let list = """
            https://archive.example/frames/\(inputs[0].relativePath) \(real)
            https://archive.example/frames/\(inputs[1].relativePath) \(String(repeating: "0", count: 64))
            """
        let published = try Verifier.publishedChecksums(list: list, file: "list.txt")
        let report = try Verifier(record: try JobRecord.load(output: out.path, settings: [:]), settings: [:],
                                  published: published).run()
        XCTAssertEqual(report.findings.map(\.kind), [.notAsPublished], "\(report.findings)")
        XCTAssertEqual(report.findings.first?.input, inputs[1].uri)
    }

    func testAMultiExtensionInputVerifiesAndAChangedCCDIsNamed() throws {
        let dir = try TestSupport.makeTemporaryDirectory("verify-mef")
        let ccds = try (0..<2).map { try SkyCatalogTests.frame(in: dir, keywords: [], seed: 70 + UInt64($0), name: "ccd\($0).fits") }
        let mef = dir.appendingPathComponent("mosaic.fits").path
        _ = try python("""
            import sys
            from astropy.io import fits
            hdus = [fits.PrimaryHDU()] + [fits.ImageHDU(fits.getdata(p), name='CCD%d' % i) for i, p in enumerate(sys.argv[2:])]
            fits.HDUList(hdus).writeto(sys.argv[1])
            print('{}')
            """, mef, ccds[0], ccds[1])
        let out = dir.appendingPathComponent("out")
        let spec = JobSpec(inputs: [InputFile(uri: mef, relativePath: "mosaic.fits")], parameters: ExtractParameters(output: out.path))
        XCTAssertEqual(try PipelineFixtures.runLocal(spec).status, .succeeded)
        XCTAssertEqual(try PipelineFixtures.manifest(in: out).first?.hdus?.count, 2, "one table per CCD")
        XCTAssertTrue(try verify(out).passed)

        let size = try Data(contentsOf: URL(fileURLWithPath: mef)).count
        try flipByte(mef, at: size - 2880 - 100)  // in the last CCD's pixels
        let report = try verify(out)
        XCTAssertEqual(report.findings.map(\.input), [mef, mef], "\(report.findings)")
        XCTAssertEqual(report.findings.map(\.kind), [.inputChanged, .catalogDiffers])
    }

    func testAPipeJobIsRefusedWithTheReason() throws {
        let (_, out) = try finishedJob("verify-pipe", count: 1)
        let file = out.appendingPathComponent("_provenance.json")
        var provenance = try JSONDecoder().decode(JobProvenance.self, from: Data(contentsOf: file))
        provenance.pipe = PipeJob(template: try PipeTemplate(command: "cp {input} {output}"), workingDirectory: "/")
        try provenance.encoded().write(to: file)
        XCTAssertThrowsError(try JobRecord.load(output: out.path, settings: [:])) { error in
            XCTAssertTrue("\(error)".contains("a --pipe job"), "\(error)")
        }
    }

    func testAJobWithoutProvenanceIsRefusedWithTheReason() throws {
        let (_, out) = try finishedJob("verify-old", count: 1)
        try FileManager.default.removeItem(at: out.appendingPathComponent("_provenance.json"))
        XCTAssertThrowsError(try JobRecord.load(output: out.path, settings: [:])) { error in
            XCTAssertTrue("\(error)".contains("_provenance.json: missing"), "\(error)")
        }
    }
}
