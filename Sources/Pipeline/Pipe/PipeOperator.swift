import Engine
import Foundation
import Hashing
import Storage

/// What every pipe task of a job needs: where outputs go, the command, and where it runs.
public struct PipeParameters: Codable, Equatable, Sendable {
    /// DEST: a directory or an s3:// prefix.
    public var output: String
    public var template: PipeTemplate
    /// Absolute; the same path on every node (`sextant.pipe.workDir`, else where the job was started).
    public var workingDirectory: String

    public init(output: String, template: PipeTemplate, workingDirectory: String) {
        self.output = output
        self.template = template
        self.workingDirectory = workingDirectory
    }
}

/// `sextant run --pipe`: runs a user's program once per input and commits what it wrote.
///
/// The input is a local path (an object in a store is staged to a scratch file first);
/// outputs are written to scratch paths and committed to DEST atomically, byte for byte, only
/// when the program exits 0 and wrote every one. A non-zero exit, a signal, a timeout or a
/// missing output is the input's failed manifest entry (exit status, command line, stderr's
/// last lines), not a task failure: rerunning the same program on the same file rarely helps.
/// A program this executor may not run, or cannot find, fails the task (another executor may).
public struct PipeOperator: PartitionOperator {
    public typealias Parameters = PipeParameters
    public typealias Input = InputFile
    public typealias Output = ManifestEntry

    public static let name = "sextant.pipe"

    private let parameters: PipeParameters

    public init(parameters: PipeParameters) throws {
        self.parameters = parameters
    }

    /// Kills every program pipes started in this process, starts no more, and removes their
    /// scratch files: for a process about to exit (a Ctrl-C, an executor told to stop) while
    /// tasks may still be stopping, so no program is orphaned and no staged copy left behind.
    public static func killRunningPrograms() {
        ChildProcess.terminateAll()
        PipeScratch.removeAll()
    }

    public func apply(_ inputs: [InputFile], context: TaskContext) throws -> [ManifestEntry] {
        guard !inputs.isEmpty else { return [] }  // no program for an empty partition
        let settings = try PipeSettings(Configuration(context.settings))
        let policy = PipePolicy.current
        let executable = try policy.resolve(try parameters.template.program,
                                            workingDirectory: parameters.workingDirectory)
        try policy.check(environment: settings.environment)
        let environment = ProcessInfo.processInfo.environment.merging(settings.environment) { _, job in job }
        // What Sextant opens for the program stays under the executor's roots (the program
        // itself can reach whatever the executor's user can: the allow-list is what limits it).
        let roots = AllowedRoots(settings: context.settings)
        let catalog = { (input: InputFile) in parameters.template.outputNames(for: input.relativePath).first }
        if let refused = roots.refusal(parameters.output, purpose: "the output is", inputs: inputs,
                                       catalog: catalog, context: context)
            ?? roots.refusal(parameters.workingDirectory, purpose: "the --pipe working directory is",
                             inputs: inputs, catalog: catalog, context: context) {
            return refused
        }
        let output = try StoreCache.shared.store(for: parameters.output, settings: context.settings)
        let run = PipeRun(parameters: parameters, executable: executable, environment: environment,
                          timeout: settings.timeout, output: output, context: context)
        return try inputs.map { input in
            try context.checkCancellation()
            return try roots.refusal(input, catalog: catalog(input), context: context) ?? run.process(input)
        }
    }
}

/// One task's inputs through the program, one at a time.
struct PipeRun {
    let parameters: PipeParameters
    let executable: String
    let environment: [String: String]
    let timeout: TimeInterval
    let output: ObjectStore
    let context: TaskContext

    func process(_ input: InputFile) throws -> ManifestEntry {
        let started = Date()
        let names = Self.unique(parameters.template.outputNames(for: input.relativePath))
        var entry = ManifestEntry(input: input.uri, catalog: names.first, outcome: .failed,
                                  executor: context.executor, outputs: names.count > 1 ? names : nil)
        defer { entry.seconds = Date().timeIntervalSince(started) }

        let scratch = try PipeScratch()
        defer { scratch.remove() }
        let local: String
        do {
            local = try scratch.stage(input, settings: context.settings)
        } catch let error as InputError {
            entry.error = ManifestEntry.errorLine(input: input.uri, message: "\(error)")
            return entry
        }
        let outputPaths = Dictionary(parameters.template.outputSuffixes.map { suffix in
            (suffix, scratch.outputPath(PipeTemplate.outputName(input.relativePath, suffix: suffix)))
        }, uniquingKeysWith: { first, _ in first })
        let name = (input.uri as NSString).lastPathComponent
        let arguments = try parameters.template.arguments(PipeValues(
            input: local, name: name, stem: InputFile.stem(of: name),
            directory: (local as NSString).deletingLastPathComponent, outputs: outputPaths))
        let command = PipeTemplate.display(arguments)

        let child = try ChildProcess(executable: executable, arguments: arguments, environment: environment,
                                     workingDirectory: parameters.workingDirectory,
                                     stdout: "/dev/null", stderr: scratch.stderrPath)
        let ending = child.wait(timeout: timeout, isCancelled: { context.isCancelled })
        let program = try parameters.template.program
        func fail(_ what: String) -> ManifestEntry {
            entry.command = command
            entry.stderr = StderrTail.read(scratch.stderrPath)
            let last = entry.stderr?.split(separator: "\n").last.map { ": \($0)" } ?? ""
            entry.error = ManifestEntry.errorLine(input: input.uri, message: "\(program) \(what)\(last)")
            return entry
        }
        switch ending {
        case .cancelled:
            try context.checkCancellation()  // throws TaskCancelled, which the scheduler does not count
            return fail("was stopped")
        case .exited(0):
            break
        case .exited(let status):
            entry.exitStatus = Int(status)
            return fail("exited with status \(status)")
        case .signaled(let signal):
            entry.signal = Int(signal)
            return fail("was killed by signal \(signal) (\(String(cString: strsignal(signal))))")
        case .timedOut(let seconds, let signal):
            entry.signal = Int(signal)
            return fail("ran past \(PipeKeys.timeout.name) (\(Self.format(seconds))) and was killed")
        }

        let files = names.map { (name: $0, path: scratch.outputPath($0)) }
        if let missing = files.first(where: { !FileManager.default.fileExists(atPath: $0.path) }) {
            entry.exitStatus = 0
            return fail("exited 0 but did not write \(missing.name) (its {output} path)")
        }
        var total = 0
        for (index, file) in files.enumerated() {
            let url = URL(fileURLWithPath: file.path)
            if index == 0 { entry.sha256 = try Self.sha256(of: url) }
            total += try Self.size(of: file.path)
            try output.put(file.name, contentsOf: url)
        }
        entry.outcome = .committed
        entry.bytes = total
        return entry
    }

    static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    static func format(_ seconds: TimeInterval) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.3g s", seconds)
    }

    private static func size(of path: String) throws -> Int {
        ((try FileManager.default.attributesOfItem(atPath: path))[.size] as? NSNumber)?.intValue ?? 0
    }

    /// SHA-256 of a file in 1 MiB reads, so a large output is not held in memory to hash it.
    private static func sha256(of url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let hasher = SHA256Hasher()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalize().hexString
    }
}

/// The last lines of a program's stderr, bounded (20 lines, 4 KB), read from the end of its file.
enum StderrTail {
    static let maxBytes = 4096
    static let maxLines = 20

    static func read(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = size > UInt64(maxBytes) ? size - UInt64(maxBytes) : 0
        try? handle.seek(toOffset: start)
        let data = (try? handle.readToEnd()) ?? Data()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let kept = lines.suffix(maxLines).joined(separator: "\n")
        return kept.isEmpty ? nil : kept
    }
}
