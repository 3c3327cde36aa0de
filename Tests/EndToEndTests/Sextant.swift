import Foundation
import TestSupport
import XCTest

/// Runs the built `sextant` binary, as a user would.
enum Sextant {
    static var binary: String { TestSupport.sextantBinary.path }

    @discardableResult
    static func run(_ arguments: [String], in directory: URL? = nil,
                    environment: [String: String]? = nil) throws -> TestSupport.ProcessOutput {
        try TestSupport.run(binary, arguments, environment: environment, currentDirectory: directory)
    }

    /// Starts `sextant` without waiting, its output going to `log`.
    static func start(_ arguments: [String], logTo log: URL, environment: [String: String] = [:]) throws -> Process {
        try startProgram(binary, arguments, logTo: log, environment: environment)
    }

    /// Starts any program without waiting, its output going to `log`.
    static func startProgram(_ program: String, _ arguments: [String], logTo log: URL,
                             environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// Generates `count` frames of a synthetic dataset into `directory`.
    static func generate(_ dataset: String, count: Int, into directory: URL) throws {
        let out = try run(["datasets", "generate", dataset, "--count", "\(count)", "--out", directory.path,
                           "--file", TestSupport.repoRoot.appendingPathComponent("datasets.txt").path])
        XCTAssertEqual(out.status, 0, out.stderr)
    }
}
