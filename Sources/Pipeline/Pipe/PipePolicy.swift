import Engine
import Foundation

/// Which programs `--pipe` may start in this process. A pipe runs arbitrary code with the
/// process's credentials, so the policy comes from the process's own configuration, never
/// from a job: an executor runs none unless its `sextant.pipe.allowedCommands` names them;
/// `sextant run` in local mode runs any unless the user's conf restricts it.
public struct PipePolicy: Sendable, Equatable {
    public static let allowedCommandsKey = PipeKeys.allowedCommands.name

    /// nil: any program. Otherwise names (looked up on PATH) or absolute paths; `*` means any.
    public var allowed: [String]?
    /// The PATH program names are looked up on: the process's own, not a job's.
    public var searchPath: String

    public init(allowed: [String]?, searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") {
        self.allowed = allowed.map { $0.contains("*") ? ["*"] : $0 }
        self.searchPath = searchPath
    }

    /// An executor's policy: only what `sextant.pipe.allowedCommands` lists (nothing when unset).
    public static func executor(_ conf: [String: String]) -> PipePolicy {
        PipePolicy(allowed: list(conf[allowedCommandsKey]) ?? [])
    }

    /// A local run's policy: any program, unless `sextant.pipe.allowedCommands` restricts it.
    public static func local(_ conf: [String: String]) -> PipePolicy {
        PipePolicy(allowed: list(conf[allowedCommandsKey]))
    }

    /// The policy of this process. Nothing is allowed until the program sets it (an executor
    /// from its conf, a local run from the user's), so a binary that only registers the
    /// operator does not run commands for whoever can submit a task.
    public static var current: PipePolicy {
        get { lock.withLock { installed } }
        set { lock.withLock { installed = newValue } }
    }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var installed = PipePolicy(allowed: [])

    public var allowsAny: Bool { allowed == nil || allowed == ["*"] }

    /// The absolute path `program` runs as, if this policy lets it run here; throws naming
    /// what is missing or not allowed. Relative paths are taken from `workingDirectory`.
    public func resolve(_ program: String, workingDirectory: String) throws -> String {
        guard let path = locate(program, workingDirectory: workingDirectory) else {
            throw PipeError.notFound(program: program, searchPath: searchPath)
        }
        guard allowsAny || (allowed ?? []).contains(where: { entry in
            // The same path, not the same file: a multi-call binary (busybox) must not let `ls` allow `rm`.
            locate(entry, workingDirectory: "/") == path
        }) else {
            throw PipeError.notAllowed(program: program, allowed: allowed ?? [])
        }
        return path
    }

    /// Refuses, unless any program may run anyway, job variables that change what an allowed
    /// program loads or runs (the dynamic loader's, interpreters' start-up hooks, PATH): with
    /// them an allow-list of programs would allow anything.
    public func check(environment: [String: String]) throws {
        guard !allowsAny else { return }
        for name in environment.keys.sorted() where Self.isLoaderVariable(name) {
            throw PipeError.variableNotAllowed(name)
        }
    }

    static func isLoaderVariable(_ name: String) -> Bool {
        let prefixes = ["LD_", "DYLD_", "PYTHON", "PERL5", "PERLLIB", "RUBY", "NODE_", "JAVA_TOOL", "_JAVA"]
        let names: Set<String> = ["PATH", "BASH_ENV", "ENV", "SHELLOPTS", "IFS", "GCONV_PATH", "TCL_LIBRARY"]
        return names.contains(name) || prefixes.contains { name.hasPrefix($0) }
    }

    /// What an executor declares at registration, so a driver can check a job before it runs:
    /// the allow-list, and where each allowed program is (empty when it is not installed).
    public var attributes: [String: String] {
        guard let allowed else { return [Self.allowedCommandsKey: "*"] }
        var attributes = [Self.allowedCommandsKey: allowed.joined(separator: ",")]
        for entry in allowed where entry != "*" {
            attributes[Self.resolvedPrefix + entry] = locate(entry, workingDirectory: "/") ?? ""
        }
        return attributes
    }

    static let resolvedPrefix = "sextant.pipe.resolved."

    /// The executable file `program` names: itself when it holds a `/`, else the first match on PATH.
    func locate(_ program: String, workingDirectory: String) -> String? {
        let candidates: [String]
        if program.contains("/") {
            candidates = [program.hasPrefix("/") ? program : workingDirectory + "/" + program]
        } else {
            candidates = searchPath.split(separator: ":").map { "\($0)/\(program)" }
        }
        return candidates.map { URL(fileURLWithPath: $0).standardizedFileURL.path }.first { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && access(path, X_OK) == 0
        }
    }

    private static func list(_ value: String?) -> [String]? {
        value.map(ValueParsers.list)
    }
}
