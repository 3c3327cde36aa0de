import Engine
import Foundation
@testable import Pipeline
import Storage
import TestSupport
import XCTest

/// The driver's per-input state at survey scale: typed slots, exact round trips, and lineage
/// owned by the scheduler. Memory is asserted by record sizes, never by timing or RSS.
final class DriverScaleTests: XCTestCase {
    private func committedEntry(_ index: Int) -> (ManifestEntry, InputFile) {
        let input = InputFile(uri: "/survey/night/d\(index / 1000)/f\(index).fits.gz",
                              relativePath: "d\(index / 1000)/f\(index).fits.gz", size: 1360)
        var entry = ManifestEntry(input: input.uri, catalog: "d\(index / 1000)/f\(index).cat.fits", outcome: .committed,
                                  attempts: 1, rows: 2, bytes: 8640, sha256: String(repeating: "0123456789abcdef", count: 4),
                                  seconds: 0.0123, executor: "e\(index % 3)@host")
        entry.provenance = InputProvenance(inputSHA256: String(repeating: "fedcba9876543210", count: 4), inputSize: 1360,
                                           inputModified: Timestamp.string(Date(timeIntervalSince1970: 1.8e9 + Double(index))),
                                           path: input.relativePath, started: Timestamp.string(),
                                           finished: Timestamp.string())
        return (entry, input)
    }

    func testEntriesComeBackFromTheirSlotsExactlyAndOddOnesAreKeptWhole() {
        let table = EntryTable(count: 9)
        let format = ExtractParameters(output: "/out").format
        var expected: [ManifestEntry] = []
        var inputs: [InputFile] = []
        for index in 0..<9 {
            var (entry, input) = committedEntry(index)
            switch index {
            case 1: entry.outcome = .skipped; entry.attempts = 0; entry.provenance = nil
            case 2: entry = ManifestEntry(input: input.uri, catalog: entry.catalog, outcome: .failed,
                                          error: "\(input.uri): not a FITS file")
            case 3: entry.sha256 = entry.sha256?.uppercased()  // would not come back the same from 32 bytes
            case 4: entry.provenance?.started = "2026-12-01T19:24:39Z"  // no milliseconds: not Timestamp's form
            case 5: entry.hdus = [HDUSummary(hdu: 1, extname: "CCD1", rows: 2)]
            // An S3 input: its MD5 ETag (quoted, as S3 sends it, or bare) and its wait fit the slot.
            case 6: entry.provenance?.inputETag = "\"0f343b0931126a20f133d67c2b018a3b\""; entry.waitSeconds = 0.0042
            case 7: entry.provenance?.inputETag = "0f343b0931126a20f133d67c2b018a3b"
            case 8: entry.provenance?.inputETag = "\"0f343b0931126a20f133d67c2b018a3b-2\""  // multipart: kept whole
            default: break
            }
            table.set(entry, at: index, input: input, outputs: [format.catalogName(for: input.relativePath)])
            expected.append(entry)
            inputs.append(input)
        }
        for index in 0..<9 {
            let names = [format.catalogName(for: inputs[index].relativePath)]
            XCTAssertEqual(table.entry(at: index, input: inputs[index], outputs: names), expected[index], "entry \(index)")
            XCTAssertEqual(table.outcome(at: index), expected[index].outcome)
        }
        XCTAssertEqual(table.wholeCount, 5, "the error, upper-case digest, odd time, HDU list and multipart ETag are kept whole")
        table.setAttempts(3, at: 0)
        table.setAttempts(2, at: 2)
        XCTAssertEqual(table.entry(at: 0, input: inputs[0], outputs: [expected[0].catalog!])?.attempts, 3)
        XCTAssertEqual(table.entry(at: 2, input: inputs[2], outputs: [expected[2].catalog!])?.attempts, 2)
        XCTAssertNil(EntryTable(count: 1).entry(at: 0, input: inputs[0], outputs: []), "no entry until one is set")
    }

    func testMillisecondTimesAreTimestampsExactly() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let date = Date(timeIntervalSince1970: Double.random(in: -2e9...4.1e9, using: &generator))
            let text = Timestamp.string(date)
            let ms = MillisecondTime.parse(text)
            XCTAssertNotNil(ms, text)
            XCTAssertEqual(ms.map(MillisecondTime.string), text)
        }
        // A day its month does not have would come back as another date: not taken.
        for bad in ["2026-12-01T19:24:39Z", "2026-13-01T19:24:39.000Z", "2026-12-01 19:24:39.000Z", "x",
                    "2026-02-30T00:00:00.000Z", "2025-02-29T00:00:00.000Z", "1900-02-29T00:00:00.000Z",
                    "2026-04-31T00:00:00.000Z"] {
            XCTAssertNil(MillisecondTime.parse(bad), bad)
        }
        for good in ["2024-02-29T23:59:59.999Z", "2000-02-29T00:00:00.000Z", "2026-12-31T00:00:00.000Z"] {
            XCTAssertEqual(MillisecondTime.parse(good).map(MillisecondTime.string), good)
        }
    }

    /// An entry whose names are not the ones its slot would rebuild from the input (another
    /// catalog name, output list, input URI or relative path, a split flag) is kept whole, and
    /// every entry, with its frame rows, comes back exactly as set, also when set again.
    func testEntriesTheSlotWouldRenameAreKeptWholeAndFramesComeBackExactly() {
        let count = 12
        let table = EntryTable(count: count)
        var expected: [ManifestEntry] = []
        var inputs: [InputFile] = []
        var whole = 0
        for index in 0..<count {
            var (entry, input) = committedEntry(index)
            let names = [entry.catalog!]
            switch index % 6 {
            case 1: entry.catalog = "elsewhere/f\(index).cat.fits"; whole += 1
            case 2: entry.provenance?.path = "other/f\(index).fits.gz"; whole += 1
            case 3: entry.input = "/moved/f\(index).fits.gz"; whole += 1
            case 4: entry.split = true; whole += 1
            case 5: entry.outputs = names + ["f\(index).extra"]; whole += 1
            default: break
            }
            var row = FrameRow(hdu: 0, extname: nil, background: 1000.5 + Double(index), rms: 10, sources: index,
                               fwhm: nil, depth: 277.25, zeroPoint: nil, flagged: 1)
            row.keywords = ["FILTER": .text("r\(index)")]
            entry.frames = [row]
            table.set(entry, at: index, input: input, outputs: names)
            expected.append(entry)
            inputs.append(input)
        }
        XCTAssertEqual(table.wholeCount, whole)
        // Set again (a skipped entry re-run): the newer rows are the ones that come back.
        expected[0].frames?[0].sources = 99
        table.set(expected[0], at: 0, input: inputs[0], outputs: [expected[0].catalog!])
        for index in 0..<count {
            let names = [committedEntry(index).0.catalog!]
            XCTAssertEqual(table.entry(at: index, input: inputs[index], outputs: names), expected[index], "entry \(index)")
        }
        XCTAssertGreaterThan(table.frameBytes, 0)
    }

    /// Frame rows sit in 4 MB chunks: strings that fill a chunk, straddle its end or exceed a
    /// quarter of it come back byte for byte.
    func testByteArenaGivesBackEveryStringItHolds() {
        var arena = ByteArena()
        var spans: [(ByteArena.Span, Data)] = []
        var generator = SystemRandomNumberGenerator()
        let sizes = [0, 1, 400, ByteArena.chunkBytes / 4 + 1, ByteArena.chunkBytes - 10, 3000, ByteArena.chunkBytes + 5]
            + (0..<3000).map { _ in Int.random(in: 1...4000, using: &generator) }
        for (position, size) in sizes.enumerated() {
            let data = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &+ position) })
            guard let span = arena.append(data) else { return XCTFail("no span for \(size) bytes") }
            spans.append((span, data))
        }
        for (position, (span, data)) in spans.enumerated() {
            XCTAssertEqual(arena.data(span), data, "string \(position) of \(data.count) bytes")
        }
        XCTAssertEqual(arena.byteCount, sizes.reduce(0, +))
    }

    /// The bytes the driver keeps per input while a job runs, by construction (issue 12's budget
    /// is 1.5 KB an input on a master at 10^6 inputs; the monitor's share is bounded by its window).
    func testTheDriversStatePerInputIsAFewHundredBytes() {
        XCTAssertEqual(MemoryLayout<CompactEntry>.stride, 168, "the typed slot")
        let (entry, input) = committedEntry(1)
        let table = EntryTable(count: 1)
        table.set(entry, at: 0, input: input, outputs: [entry.catalog!])
        XCTAssertEqual(table.wholeCount, 0, "a committed extraction's entry fits its slot")
        // Slot + catalog index (hash and index) + the input's own strings (URI, relative path, size).
        let perInput = MemoryLayout<CompactEntry>.stride + MemoryLayout<Int>.stride + MemoryLayout<Int32>.stride * 2
            + MemoryLayout<InputFile>.stride + 2 * 32 + input.uri.utf8.count + input.relativePath.utf8.count
        XCTAssertLessThan(perInput, 400, "\(perInput) bytes an input")
    }

    /// A short form of a survey: 5,000 inputs through the driver and the scheduler with an operator
    /// that commits an empty catalog each, every entry in the manifest, in order, in one scheduler
    /// job with one lineage listing at its end.
    func testFiveThousandInputsRunAsOneJobWithEveryEntryInOrder() throws {
        let dir = try TestSupport.makeTemporaryDirectory("driver-scale")
        let out = dir.appendingPathComponent("out")
        let count = 5_000
        let inputs = (0..<count).map { InputFile(uri: "/survey/d\($0 / 1000)/f\($0).fits", relativePath: "d\($0 / 1000)/f\($0).fits") }
        let parameters = ExtractParameters(output: out.path, format: .csv)
        let registry = OperatorRegistry()
        let jobs = Locked<Set<String>>([])
        registry.register(ExtractOperator.name, input: InputFile.self, output: ManifestEntry.self) { files, context in
            jobs.mutate { $0.insert(context.attemptID.jobID) }
            return try files.map { file in
                let name = parameters.format.catalogName(for: file.relativePath)
                let url = out.appendingPathComponent(name)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                guard FileManager.default.createFile(atPath: url.path, contents: Data()) else { throw CocoaError(.fileWriteUnknown) }
                return ManifestEntry(input: file.uri, catalog: name, outcome: .committed, rows: 0, bytes: 0,
                                     sha256: String(repeating: "e3b0c442", count: 8), seconds: 0, executor: "local")
            }
        }
        let report = try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: parameters), slots: 2, registry: registry)
        XCTAssertEqual(report.status, .succeeded)
        XCTAssertEqual(report.committed, count)
        XCTAssertEqual(jobs.value.count, 1, "one scheduler job: lineage is the scheduler's, not driver rounds")
        let manifest = try PipelineFixtures.manifest(in: out)
        XCTAssertEqual(manifest.map(\.input), inputs.map(\.uri))
        XCTAssertEqual(Set(manifest.map(\.outcome)), [.committed])
    }

    /// A job's inputs travel as lines, not JSON objects, and come back the same; a name with a
    /// tab keeps the array form; a broken line is an error naming its place.
    func testAJobSpecsInputsTravelAsLinesAndComeBackTheSame() throws {
        let inputs = (0..<1000).map { InputFile(uri: "/survey/d\($0 / 100)/f \($0).fits.gz", relativePath: "d\($0 / 100)/f \($0).fits.gz",
                                                size: Int64($0) * 1360) }
        let spec = JobSpec(jobID: "j", inputs: inputs, parameters: ExtractParameters(output: "/out"), resume: true,
                           partitions: 7, partitionBytes: 1 << 20, settings: ["sextant.task.maxFailures": "3"],
                           pipe: PipeJob(template: try PipeTemplate(command: "cp {input} {output:.fits}"), workingDirectory: "/tmp"),
                           selection: "FILTER == \"r\"")
        let data = try JSONEncoder().encode(spec)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertNil(object["inputs"])
        XCTAssertEqual((object["inputLines"] as? String)?.split(separator: "\n").count, 1000)
        let back = try JSONDecoder().decode(JobSpec.self, from: data)
        XCTAssertEqual(back.inputs, inputs)
        XCTAssertEqual(back.jobID, "j")
        XCTAssertEqual(back.partitions, 7)
        XCTAssertTrue(back.resume)
        XCTAssertEqual(back.settings, spec.settings)
        XCTAssertEqual(back, spec, "every field travels (a --where once stayed behind)")
        XCTAssertLessThan(data.count, try JSONEncoder().encode(inputs).count, "smaller than the array alone")

        var odd = spec
        odd.inputs = [InputFile(uri: "/in/a\tb.fits", relativePath: "a\tb.fits", size: 1)]
        let oddData = try JSONEncoder().encode(odd)
        XCTAssertNotNil((try JSONSerialization.jsonObject(with: oddData) as? [String: Any])?["inputs"])
        XCTAssertEqual(try JSONDecoder().decode(JobSpec.self, from: oddData).inputs, odd.inputs)

        var broken = object
        broken["inputLines"] = "/in/a.fits\ta.fits\t1\n/in/b.fits\tb.fits\n"
        XCTAssertThrowsError(try JSONDecoder().decode(JobSpec.self, from: JSONSerialization.data(withJSONObject: broken))) { error in
            XCTAssertTrue("\(error)".contains("input 2: not 'uri TAB relativePath TAB size'"), "\(error)")
        }
    }

    /// Resume reads the earlier manifest in ranges: lines that straddle ranges, blank lines and a
    /// last line without its newline come out whole and in order.
    func testManifestLinesAreReadInRangesWhole() throws {
        let dir = try TestSupport.makeTemporaryDirectory("driver-lines")
        let store = LocalStore(root: dir.path)
        let lines = (0..<200).map { "{\"input\":\"/in/\($0).fits\",\"pad\":\"\(String(repeating: "x", count: $0 % 37))\"}" }
        try store.put("_manifest.jsonl", data: Data((lines.joined(separator: "\n\n") + "\n" + "tail").utf8))
        var seen: [String] = []
        try ManifestLines.forEach(in: store, key: "_manifest.jsonl", chunkBytes: 64) { seen.append(String(decoding: $0, as: UTF8.self)) }
        XCTAssertEqual(seen, lines + ["tail"])
        var none = 0
        try ManifestLines.forEach(in: store, key: "absent.jsonl") { _ in none += 1 }
        XCTAssertEqual(none, 0)
    }

    /// A catalog that vanishes after every commit is recomputed by the scheduler up to
    /// `sextant.task.maxFailures` times, then reported failed with why; the others are committed.
    func testACatalogThatKeepsVanishingFailsWithTheReason() throws {
        let dir = try TestSupport.makeTemporaryDirectory("driver-vanishing")
        let frames = try PipelineFixtures.frames(3, in: dir.appendingPathComponent("in"), seed: 5)
        let inputs = frames.map { InputFile(uri: $0, relativePath: ($0 as NSString).lastPathComponent) }
        let out = dir.appendingPathComponent("out")
        let runs = Locked(0)
        let registry = OperatorRegistry()
        registry.register(ExtractOperator.name, input: InputFile.self, output: ManifestEntry.self) { files, context in
            let entries = try ExtractOperator(parameters: ExtractParameters(output: out.path)).apply(files, context: context)
            for entry in entries where entry.input == inputs[1].uri {
                runs.mutate { $0 += 1 }
                try FileManager.default.removeItem(at: out.appendingPathComponent(entry.catalog!))
            }
            return entries
        }
        let settings = EngineSettings()
        let report = try PipelineFixtures.runLocal(JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path)),
                                                   settings: settings, registry: registry)
        XCTAssertEqual(report.status, .completedWithFailures)
        XCTAssertEqual(runs.value, settings.maxFailures + 1, "the first run and maxFailures recomputations")
        let manifest = try PipelineFixtures.manifest(in: out)
        XCTAssertEqual(manifest.map(\.outcome), [.committed, .failed, .committed])
        let error = try XCTUnwrap(manifest[1].error)
        XCTAssertTrue(error.hasPrefix(inputs[1].uri + ": "), error)
        XCTAssertTrue(error.contains("output lost after commit \(settings.maxFailures + 1) times"), error)
    }
}
