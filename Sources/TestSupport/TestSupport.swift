import Foundation

/// Helpers shared by the test targets: where the repo and the real test images are,
/// scratch directories, and running other programs (the Python reference, astropy, our binary).
public enum TestSupport {
    /// The package root, found from this file's location.
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The real images (image.fits, back.fits, rms.fits, image.cat, m51_skimage.fits).
    /// Looks at $SEXTANT_TEST_DATA, then ../shared/data beside the repo, then the copy
    /// scripts/test unpacks from the sep sdist into .test-work/sep-data.
    public static var dataDirectory: URL? {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["SEXTANT_TEST_DATA"] {
            candidates.append(URL(fileURLWithPath: env))
        }
        candidates.append(repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data"))
        candidates.append(repoRoot.appendingPathComponent(".test-work/sep-data"))
        return candidates.first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("image.fits").path)
        }
    }

    /// Why a test that needs the M51 frame skips: SEP's sdist (the fallback of scripts/test)
    /// does not carry it; ../shared/data, which CI has, does.
    public static let missingM51 = "m51_skimage.fits is not in the test data (it comes with ../shared/data, not with the sep sdist)"

    /// A path under the data directory; nil when the data is not available.
    public static func dataFile(_ name: String) -> URL? {
        guard let dir = dataDirectory else { return nil }
        let url = dir.appendingPathComponent(name)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// A fresh, empty directory under the system temp dir.
    public static func makeTemporaryDirectory(_ label: String = "sextant-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    public struct ProcessOutput {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a program to completion and captures its output. A program still running after
    /// `timeout` seconds is killed, so one hung command cannot eat CI's whole budget.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String],
                           environment: [String: String]? = nil,
                           currentDirectory: URL? = nil, timeout: TimeInterval = 600) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        try process.run()
        let watchdog = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        defer { watchdog.cancel() }
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        var errData = Data()
        let errReader = Thread { errData = errPipe.fileHandleForReading.readDataToEndOfFile() }
        errReader.start()
        let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errReader.isFinished { usleep(1000) }
        return ProcessOutput(status: process.terminationStatus,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Waits for a process that was sent a fatal signal, at most `timeout` seconds. Foundation
    /// learns of a child's exit when a socket the child holds closes; a sibling started at the
    /// same moment can inherit that socket, and then `waitUntilExit` never returns (seen under
    /// load in the chaos tests). So this also reaps the child itself once it is a zombie.
    public static func awaitExit(_ process: Process, timeout: TimeInterval = 20) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var status: Int32 = 0
        while process.isRunning, Date() < deadline {
            if waitpid(process.processIdentifier, &status, WNOHANG) == process.processIdentifier { return }
            usleep(10_000)
        }
    }

    /// Debian's python3, which sees python3-sep and python3-astropy (pyenv's python3 does not).
    public static let systemPython = "/usr/bin/python3"

    /// Runs a Python snippet under the system python; throws when it fails.
    public static func python(_ script: String, arguments: [String] = []) throws -> String {
        let out = try run(systemPython, ["-c", script] + arguments)
        guard out.status == 0 else {
            throw TestSupportError.commandFailed("python3 exited \(out.status): \(out.stderr)")
        }
        return out.stdout
    }

    /// The built `sextant` binary next to the test bundle (same build directory).
    public static var sextantBinary: URL {
        var dir = Bundle.main.bundleURL
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            dir = bundle.bundleURL.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("sextant")
    }
}

public enum TestSupportError: Error, CustomStringConvertible {
    case commandFailed(String)
    public var description: String {
        switch self { case .commandFailed(let message): return message }
    }
}
