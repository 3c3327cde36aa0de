import Foundation

/// `--pipe` (read by Pipeline's `PipeSettings` and `PipePolicy`). Which programs may run is the
/// process's own setting: a job never widens it.
public enum PipeKeys {
    public static let allowedCommands = Declare.list(
        "sextant.pipe.allowedCommands", .pipe, .process, shown: "none on an executor, any in local mode",
        doc: "programs `--pipe` may start here: names looked up on PATH or absolute paths, comma-separated; `*` allows any")
    public static let timeout = Declare.duration(
        "sextant.pipe.timeout", .pipe, .job, default: 3600, positive: false, shown: "`1h`",
        doc: "how long one input's program may run before its process group is killed; `0` means no limit")
    public static let workingDirectory = Declare.optionalString(
        "sextant.pipe.workDir", .pipe, .job, shown: "where `run` or `submit` was started",
        doc: "the directory the program runs in (made absolute, so it means the same on every node)")
    public static let environment = Declare.family(
        "sextant.pipe.env.", member: "NAME", .pipe, .job,
        doc: "adds `NAME=value` to the program's environment")

    public static let all = declarations(allowedCommands, timeout, workingDirectory, environment)
}
