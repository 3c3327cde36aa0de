import Engine
import Foundation

/// Why a pipe could not start here. These are the executor's, not the input's: the task
/// fails and is retried (another executor may allow the program), and a driver's preflight
/// reports them before any task runs.
public enum PipeError: Error, CustomStringConvertible, Equatable {
    case notFound(program: String, searchPath: String)
    case notAllowed(program: String, allowed: [String])
    case variableNotAllowed(String)
    case spawnFailed(program: String, reason: String)
    case preflight([String])

    public var description: String {
        switch self {
        case let .notFound(program, searchPath):
            return program.contains("/") ? "--pipe: \(program): no such executable file"
                : "--pipe: \(program): not found on PATH (\(searchPath))"
        case let .notAllowed(program, allowed):
            return allowed.isEmpty
                ? "--pipe: \(program): pipes are off here (\(PipePolicy.allowedCommandsKey) is empty)"
                : "--pipe: \(program): not in \(PipePolicy.allowedCommandsKey) (\(allowed.joined(separator: ",")))"
        case .variableNotAllowed(let name):
            return "--pipe: \(name) in \(PipeKeys.environment.name) is refused here: with \(PipePolicy.allowedCommandsKey) set, variables that change what a program loads or runs are not passed"
        case let .spawnFailed(program, reason):
            return "--pipe: cannot start \(program): \(reason)"
        case .preflight(let problems):
            return "--pipe cannot run on every executor: " + problems.joined(separator: "; ")
        }
    }
}
