import Foundation
import TestSupport
import XCTest

/// The frames every chaos scenario runs, and the catalogs a fault-free run makes of them:
/// the reference each faulty run's catalogs must equal, byte for byte.
final class ChaosWorkload {
    static let frameCount = 30
    let directory: URL
    let frames: URL
    /// Catalog file name -> SHA-256 (from `sha256sum`) of the fault-free run.
    let reference: [String: String]
    /// Catalog file name -> rows, from the fault-free manifest.
    let rows: [String: Int]

    /// Generated once per test process (generating and extracting 30 frames costs seconds).
    static func shared() throws -> ChaosWorkload {
        lock.lock(); defer { lock.unlock() }
        if let cached { return cached }
        let made = try ChaosWorkload()
        cached = made
        return made
    }
    /// Deletes the shared frames and reference run (after the last test of the class).
    static func removeShared() {
        lock.lock(); defer { lock.unlock() }
        if let cached { try? FileManager.default.removeItem(at: cached.directory) }
        cached = nil
    }

    private static let lock = NSLock()
    private static var cached: ChaosWorkload?

    private init() throws {
        directory = try TestSupport.makeTemporaryDirectory("chaos-workload")
        frames = directory.appendingPathComponent("frames")
        try Sextant.generate("small", count: Self.frameCount, into: frames)
        let out = directory.appendingPathComponent("fault-free")
        let run = try Sextant.run(["run", frames.path, "--out", out.path, "--master", "local[2]"])
        guard run.status == 0 else { throw TestSupportError.commandFailed("fault-free run: \(run.stdout)\(run.stderr)") }
        reference = try ChaosCheck.sha256s(in: out)
        let manifest = try ChaosCheck.manifest(in: out)
        rows = Dictionary(manifest.compactMap { entry in
            (entry["catalog"] as? String).map { ($0, entry["rows"] as? Int ?? -1) }
        }, uniquingKeysWith: { a, _ in a })
        guard reference.count == Self.frameCount else {
            throw TestSupportError.commandFailed("fault-free run made \(reference.count) catalogs")
        }
    }

    /// The frame names (`small-0001.fits`, ...), sorted.
    var frameNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: frames.path)) ?? []).filter { $0.hasSuffix(".fits") }.sorted()
    }

    /// A fresh input directory holding copies of the first `count` frames (hard links where possible).
    func inputs(_ count: Int, in directory: URL) throws -> URL {
        let input = directory.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        for name in frameNames.prefix(count) {
            let target = input.appendingPathComponent(name)
            do {
                try FileManager.default.linkItem(at: frames.appendingPathComponent(name), to: target)
            } catch {
                try FileManager.default.copyItem(at: frames.appendingPathComponent(name), to: target)
            }
        }
        return input
    }
}

/// What one faulty run did and what it left: the figures of issue #8.
struct ChaosFigures: Codable {
    var scenario: String
    var faults = 0
    var jobs = 0
    var inputs = 0
    /// Inputs without an outcome, or whose committed catalog is missing.
    var lost = 0
    /// Manifest lines beyond one per input, catalogs nobody asked for, temporary files left behind.
    var duplicated = 0
    /// Catalogs whose SHA-256 differs from the fault-free run's (or from their own manifest line).
    var differing = 0
    /// Master, driver or executor processes that died without the test killing them.
    var crashes = 0
    var seconds = 0.0
    var notes: [String] = []

    /// Appends these figures as one JSON line to $SEXTANT_CHAOS_REPORT (scripts/chaos sums them) and prints them.
    func record() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        guard let line = try? encoder.encode(self) else { return }
        print("chaos: \(String(decoding: line, as: UTF8.self))")
        guard let path = ProcessInfo.processInfo.environment["SEXTANT_CHAOS_REPORT"] else { return }
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        handle.seekToEndOfFile()
        handle.write(line + Data("\n".utf8))
        handle.closeFile()
    }

    /// The must-be-zero figures hold.
    func assertClean(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(lost, 0, "\(scenario): inputs lost", file: file, line: line)
        XCTAssertEqual(duplicated, 0, "\(scenario): inputs duplicated", file: file, line: line)
        XCTAssertEqual(differing, 0, "\(scenario): catalogs differ from the fault-free run", file: file, line: line)
        XCTAssertEqual(crashes, 0, "\(scenario): processes crashed", file: file, line: line)
    }
}

/// Checks of a job's output against the fault-free reference.
enum ChaosCheck {
    /// `sha256sum` of every catalog in `directory`, by file name.
    static func sha256s(in directory: URL) throws -> [String: String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".cat.fits") }.sorted()
        guard !names.isEmpty else { return [:] }
        let out = try TestSupport.run("/usr/bin/sha256sum", names, currentDirectory: directory)
        var sums: [String: String] = [:]
        for line in out.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            sums[parts[1].trimmingCharacters(in: CharacterSet(charactersIn: " *"))] = String(parts[0])
        }
        return sums
    }

    static func manifest(in directory: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: directory.appendingPathComponent("_manifest.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Fills `figures` from the output of a job over `inputs` (file names in one directory):
    /// `expectFailed` are the inputs that must fail; every other one must have its reference catalog.
    static func verify(_ out: URL, inputs: [String], reference: [String: String], expectFailed: Set<String> = [],
                       into figures: inout ChaosFigures) throws {
        figures.inputs += inputs.count
        let manifest = try manifest(in: out)
        let sums = try sha256s(in: out)
        var seen: [String: Int] = [:]
        for entry in manifest {
            let name = URL(fileURLWithPath: entry["input"] as? String ?? "").lastPathComponent
            seen[name, default: 0] += 1
            let outcome = entry["outcome"] as? String ?? "?"
            let catalog = entry["catalog"] as? String ?? ""
            if expectFailed.contains(name) {
                if outcome != "failed" { figures.notes.append("\(name) should have failed: \(outcome)") ; figures.differing += 1 }
                continue
            }
            guard outcome == "committed" || outcome == "skipped", let sum = sums[catalog] else {
                figures.lost += 1
                figures.notes.append("\(name): \(outcome) \(entry["error"] as? String ?? "")")
                continue
            }
            if let listed = entry["sha256"] as? String, listed != sum { figures.differing += 1 }
            if let expected = reference[catalog], expected != sum {
                figures.differing += 1
                figures.notes.append("\(catalog) differs from the fault-free run")
            }
        }
        for name in inputs where seen[name] == nil {
            figures.lost += 1
            figures.notes.append("\(name): no manifest line")
        }
        figures.duplicated += seen.values.reduce(0) { $0 + max(0, $1 - 1) }
        let expectedCatalogs = Set(inputs.filter { !expectFailed.contains($0) }.map { $0.replacingOccurrences(of: ".fits", with: ".cat.fits") })
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.path)
            .filter { $0.hasPrefix(".") || ($0.hasSuffix(".cat.fits") && !expectedCatalogs.contains($0)) }
        figures.duplicated += leftovers.count
        if !leftovers.isEmpty { figures.notes.append("left behind: \(leftovers)") }
    }

    /// Waits for `_SUCCESS` (the job ran to its end) in `out`.
    static func waitForSuccess(_ out: URL, timeout: TimeInterval = 150) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: out.appendingPathComponent("_SUCCESS").path) { return true }
            usleep(50_000)
        }
        return false
    }

    static func catalogCount(_ out: URL) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { $0.hasSuffix(".cat.fits") }.count
    }

    /// Polls until `out` holds at least `count` catalogs.
    static func waitForCatalogs(_ out: URL, atLeast count: Int, timeout: TimeInterval = 60) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if catalogCount(out) >= count { return true }
            usleep(20_000)
        }
        return false
    }

    /// Lines of `text` that contain `secret`, and sextant processes whose command line does.
    static func leaks(of secret: String, logs: [String]) -> [String] {
        var found = logs.filter { $0.contains(secret) }.map { "a log: \($0.prefix(200))" }
        for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
            guard let raw = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            let cmdline = String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            if cmdline.contains("sextant"), cmdline.contains(secret) { found.append("/proc/\(pid)/cmdline: \(cmdline)") }
        }
        return found
    }
}
