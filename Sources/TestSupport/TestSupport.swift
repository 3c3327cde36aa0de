import Foundation

/// Helpers shared by the test targets: where the repo and the real test images are,
/// scratch directories, and running other programs (the Python reference, astropy, our binary).
public enum TestSupport {
    /// The package root, found from this file's location.
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The real images (image.fits, back.fits, rms.fits, image.cat, m51_skimage.fits).
    /// $SEXTANT_TEST_DATA, when set, is the only place looked at (so a run can hide
    /// ../shared/data, as on a fresh clone); else ../shared/data beside the repo, then the copy
    /// scripts/test unpacks from the sep sdist into .test-work/sep-data.
    public static var dataDirectory: URL? {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["SEXTANT_TEST_DATA"] {
            candidates.append(URL(fileURLWithPath: env))
        } else {
            candidates.append(repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data"))
            candidates.append(repoRoot.appendingPathComponent(".test-work/sep-data"))
        }
        return candidates.first {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("image.fits").path)
        }
    }

    /// m51_skimage.fits when the test data has it (../shared/data does; the sep sdist does
    /// not), else a generated stand-in of the same kind: 256x256 int16, one large bright
    /// galaxy with spiral arms that SEP deblends into many objects, stars, sky and Poisson
    /// noise, from a fixed seed. Tests that compare with Python sep run on either, never skip.
    public static func m51OrStandIn() throws -> (url: URL, isReal: Bool) {
        if let real = dataFile("m51_skimage.fits") { return (real, true) }
        let directory = repoRoot.appendingPathComponent(".test-work/generated")
        let url = directory.appendingPathComponent("m51-standin.fits")
        if FileManager.default.fileExists(atPath: url.path) { return (url, false) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let partial = directory.appendingPathComponent(".m51-standin-\(UUID().uuidString).fits")
        _ = try python(m51StandInScript, arguments: [partial.path])
        // Another test process may have made it meanwhile: either copy is the same bytes.
        if (try? FileManager.default.moveItem(at: partial, to: url)) == nil { try? FileManager.default.removeItem(at: partial) }
        return (url, false)
    }

    private static let m51StandInScript = """
    import sys
    import numpy as np
    from astropy.io import fits
    rng = np.random.default_rng(51)
    n = 256
    y, x = np.mgrid[0:n, 0:n].astype(np.float64)
    dx, dy = x - 131.0, y - 120.0
    r = np.hypot(dx, dy)
    phi = np.arctan2(dy, dx)
    arms = 1.0 + 0.8 * np.cos(2.0 * (phi - np.log(r + 1.0) * 1.6)) ** 8
    image = 100.0 + 5200.0 * np.exp(-r / 9.0) + 900.0 * np.exp(-r / 38.0) * arms
    for _ in range(30):
        sx, sy = rng.uniform(6, n - 6, 2)
        flux = rng.uniform(300.0, 6000.0)
        image += flux / (2 * np.pi * 1.6 ** 2) * np.exp(-((x - sx) ** 2 + (y - sy) ** 2) / (2 * 1.6 ** 2))
    image = rng.poisson(image).astype(np.float64) + rng.normal(0.0, 3.0, image.shape)
    data = np.clip(np.rint(image), 0, 32767).astype('>i2')
    fits.PrimaryHDU(data).writeto(sys.argv[1], overwrite=True)
    """

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
        let errBox = Locked(Data())
        let errReader = Thread { errBox.value = errPipe.fileHandleForReading.readDataToEndOfFile() }
        errReader.start()
        let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errReader.isFinished { usleep(1000) }
        let errData = errBox.value
        return ProcessOutput(status: process.terminationStatus,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Waits for a process that was sent a fatal signal, at most `timeout` seconds. Foundation
    /// learns of a child's exit when a socket the child holds closes; a sibling started at the
    /// same moment can inherit that socket, and then `waitUntilExit` never returns (seen under
    /// load in the chaos tests). So this also reaps the child itself once it is a zombie.
    /// Returns the exit status (128 + N for death by signal N), or nil if it still runs: read it
    /// here, never from `terminationStatus`, which traps once this has reaped the child.
    @discardableResult
    public static func awaitExit(_ process: Process, timeout: TimeInterval = 20) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var status: Int32 = 0
        while process.isRunning, Date() < deadline {
            if waitpid(process.processIdentifier, &status, WNOHANG) == process.processIdentifier {
                return exitStatus(status)
            }
            usleep(10_000)
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// Stops a child for good: sends `signal` if it still runs, waits (reaping it, as
    /// `awaitExit` does), and SIGKILLs it if the signal was not enough. For tearDowns: a bare
    /// `kill` + `waitUntilExit` can hang forever under load (see `awaitExit`). Returns the exit
    /// status, or nil if the child was not running or could not be reaped.
    @discardableResult
    public static func stop(_ process: Process?, signal: Int32 = SIGKILL, timeout: TimeInterval = 20) -> Int32? {
        guard let process, process.isRunning else { return nil }
        var status: Int32 = 0
        switch waitpid(process.processIdentifier, &status, WNOHANG) {
        case process.processIdentifier: return exitStatus(status)  // it had just ended
        case -1: return nil  // reaped by an earlier `awaitExit`; Foundation may not know yet
        default: break
        }
        kill(process.processIdentifier, signal)
        if let status = awaitExit(process, timeout: timeout) { return status }
        kill(process.processIdentifier, SIGKILL)
        return awaitExit(process, timeout: timeout)
    }

    /// A `waitpid` status as a shell reports it: the exit code, or 128 + the signal.
    private static func exitStatus(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
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
