import Engine
import Foundation

/// Before a pipe job runs: can every executor run its program? Each executor declared at
/// registration what its own `sextant.pipe.allowedCommands` allows and where each allowed
/// program is (`PipePolicy.attributes`), so one line per executor names a program that is
/// not allowed or not installed there, before any task starts. Local runs check this process.
enum PipePreflight {
    /// `executors` nil: tasks run in this process, under `PipePolicy.current`.
    static func check(_ pipe: PipeJob, executors: [ExecutorInfo]?) throws {
        let program = try pipe.template.program
        guard let executors else {
            _ = try PipePolicy.current.resolve(program, workingDirectory: pipe.workingDirectory)
            return
        }
        let problems = executors.compactMap { executor in
            problem(program, on: executor).map { problem in
                let name = executor.id.contains(executor.host) ? executor.id : "\(executor.id) on \(executor.host)"
                return "executor \(name): \(problem)"
            }
        }
        if !problems.isEmpty { throw PipeError.preflight(problems) }
    }

    /// Why `executor` cannot run `program`, from what it declared; nil when it can, or when
    /// it allows any program (the task then finds out whether it is installed).
    static func problem(_ program: String, on executor: ExecutorInfo) -> String? {
        let attributes = executor.attributes ?? [:]
        let key = PipePolicy.allowedCommandsKey
        let allowed = (attributes[key] ?? "").split(separator: ",").map(String.init)
        if allowed.contains("*") { return nil }
        if allowed.isEmpty { return "\(program) is not allowed: pipes are off there (its \(key) is empty)" }
        // An entry matches when it is the program as written, or where the program lives there.
        let match = allowed.first { entry in
            entry == program || (program.hasPrefix("/") && attributes[PipePolicy.resolvedPrefix + entry] == program)
        }
        guard let match else { return "\(program) is not in its \(key) (\(allowed.joined(separator: ",")))" }
        if attributes[PipePolicy.resolvedPrefix + match, default: ""].isEmpty {
            return "\(program) is allowed but not installed there (not found on its PATH)"
        }
        return nil
    }
}
