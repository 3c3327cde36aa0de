import Engine
import Extraction
import Foundation
import Hashing
import Pipeline
import TestSupport
import XCTest

final class ProvenanceTests: XCTestCase {
    private func job(_ label: String, count: Int = 3, settings: [String: String] = [:],
                     seed: UInt64 = 41) throws -> (dir: URL, inputs: [InputFile], out: URL) {
        let dir = try TestSupport.makeTemporaryDirectory(label)
        let frames = try PipelineFixtures.frames(count, in: dir.appendingPathComponent("in"), seed: seed)
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
        let out = dir.appendingPathComponent("out")
        let report = try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path),
                                                           settings: settings))
        XCTAssertEqual(report.status, .succeeded)
        return (dir, inputs, out)
    }

    private func header(_ catalog: URL) throws -> String {
        String(decoding: try Data(contentsOf: catalog).prefix(2880 * 8), as: UTF8.self)
    }

    /// The string value of `keyword` in a FITS header's 80-character cards.
    private func card(_ keyword: String, in header: String) -> String? {
        let cards = stride(from: 0, to: header.utf8.count - 79, by: 80).map {
            String(header.dropFirst($0).prefix(80))
        }
        let prefix = keyword.padding(toLength: 8, withPad: " ", startingAt: 0) + "= '"
        guard let card = cards.first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return card.dropFirst(prefix.count).prefix { $0 != "'" }.trimmingCharacters(in: .whitespaces)
    }

    func testEachManifestLineRecordsTheInputBytesAndEachCatalogItsChecksumAndParameterHash() throws {
        let (_, inputs, out) = try job("prov-lines")
        let entries = try PipelineFixtures.manifest(in: out)
        let provenance = try JSONDecoder().decode(JobProvenance.self, from: Data(contentsOf: out.appendingPathComponent("_provenance.json")))
        for (input, entry) in zip(inputs, entries) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: input.uri))
            let record = try XCTUnwrap(entry.provenance)
            XCTAssertEqual(record.inputSHA256, Digest.sha256(bytes).hexString)
            XCTAssertEqual(record.inputSize, Int64(bytes.count))
            XCTAssertEqual(record.path, input.relativePath)
            XCTAssertNotNil(record.inputModified)
            XCTAssertEqual(record.software, provenance.softwareID)
            let text = try header(out.appendingPathComponent(entry.catalog!))
            XCTAssertEqual(card("INSHA256", in: text), record.inputSHA256, "the catalog names its input's bytes")
            XCTAssertEqual(card("PARHASH", in: text), provenance.parametersSHA256)
            XCTAssertEqual(card("CFITSVER", in: text), provenance.software.libraries["cfitsio"])
            XCTAssertEqual(card("SEPVERS", in: text), provenance.software.libraries["libsep"])
        }
        XCTAssertEqual(provenance.software.libraries["libsep"], SEPLibrary.version)
        XCTAssertEqual(provenance.parametersSHA256, Digest.sha256(Data(provenance.parametersJSON.utf8)).hexString)
        XCTAssertEqual(provenance.parametersSHA256, try CatalogRecipe(ExtractParameters(output: "elsewhere")).sha256(),
                       "the parameter hash does not depend on where catalogs go")
        XCTAssertEqual(provenance.manifestSHA256,
                       Digest.sha256(try Data(contentsOf: out.appendingPathComponent("_manifest.jsonl"))).hexString)
        XCTAssertEqual(provenance.executors, ["local"])
        XCTAssertTrue(provenance.inputChecksum)
    }

    func testSecretsNeverReachTheProvenance() throws {
        let (_, _, out) = try job("prov-secrets", count: 1, settings: [
            "sextant.s3.secretKey": "hush-1", "sextant.s3.accessKey": "hush-2", "sextant.authenticate.secret": "hush-3",
            "sextant.s3.region": "eu-west-1"])
        let text = try String(contentsOf: out.appendingPathComponent("_provenance.json"), encoding: .utf8)
            + String(contentsOf: out.appendingPathComponent("_manifest.jsonl"), encoding: .utf8)
        for secret in ["hush-1", "hush-2", "hush-3", "secretKey", "accessKey"] { XCTAssertFalse(text.contains(secret), secret) }
        XCTAssertTrue(text.contains("eu-west-1"), "non-secret settings are recorded")
    }

    func testTheInputChecksumCanBeTurnedOffAndCatalogsThenCarryNone() throws {
        let (_, inputs, out) = try job("prov-off", count: 1, settings: [ProvenanceSettings.inputChecksumKey: "false"])
        let entry = try XCTUnwrap(PipelineFixtures.manifest(in: out).first)
        XCTAssertNil(entry.provenance?.inputSHA256)
        XCTAssertEqual(entry.provenance?.inputSize, Int64(try Data(contentsOf: URL(fileURLWithPath: inputs[0].uri)).count))
        let text = try header(out.appendingPathComponent(entry.catalog!))
        XCTAssertNil(card("INSHA256", in: text))
        XCTAssertNotNil(card("PARHASH", in: text))
        XCTAssertThrowsError(try ProvenanceSettings([ProvenanceSettings.inputChecksumKey: "maybe"]))
        let bad = inputs[0].uri + ".out"
        XCTAssertThrowsError(try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(output: bad),
                                                                   settings: [ProvenanceSettings.inputChecksumKey: "maybe"])))
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: bad))?.filter { $0.hasSuffix(".cat.fits") }, [],
                       "a bad value stops the job before any task")
    }

    func testTheBuildIdentityIsTheLinkersBuildIDAsReadelfReadsIt() throws {
        let notes = try TestSupport.run("/usr/bin/readelf", ["-n", "/proc/\(getpid())/exe"])
        XCTAssertEqual(notes.status, 0, notes.stderr)
        let line = try XCTUnwrap(notes.stdout.split(separator: "\n").first { $0.contains("Build ID:") },
                                 "swift build links a GNU build ID note into every binary")
        let buildID = try XCTUnwrap(line.split(separator: " ").last).lowercased()
        XCTAssertGreaterThanOrEqual(buildID.count, 16)
        XCTAssertEqual(BuildIdentity.id, "sextant-\(SextantVersion.string)-\(buildID.prefix(16))")
    }

    func testCanonicalJSONSortsKeysAndFixesNumbers() throws {
        struct Sample: Encodable { var zeta = 1.0; var alpha = [0.005, 1e-5, 3.25]; var mid = "q\"\\\n"; var none: Int? = nil; var on = true }
        XCTAssertEqual(String(decoding: try CanonicalJSON.encode(Sample()), as: UTF8.self),
                       #"{"alpha":[0.005,1e-05,3.25],"mid":"q\"\\\u000a","on":true,"zeta":1}"#)
        let shuffled = Data(#"{ "b": [1, 2.50], "a": {"y": false, "x": null} }"#.utf8)
        XCTAssertEqual(String(decoding: try CanonicalJSON.canonicalize(shuffled), as: UTF8.self), #"{"a":{"x":null,"y":false},"b":[1,2.5]}"#)
    }
}
