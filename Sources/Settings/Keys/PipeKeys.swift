import Foundation

/// `sextant run --pipe` (read by Pipeline's `PipeSettings` and `PipePolicy`). Which programs may
/// run is an executor's own setting: a job can never widen it.
public enum PipeKeys {
    public static let allowedCommands = Declare.list(
        "sextant.pipe.allowedCommands", .pipe, .process,
        shown: "none: on an executor no pipe runs; `run` in local mode runs any",
        doc: "programs `--pipe` may start in this process: names looked up on its PATH or absolute paths, comma-separated; `*` any; with `--pipe-shell` the program is `/bin/sh` (allowing it allows anything)")
    public static let timeout = Declare.duration(
        "sextant.pipe.timeout", .pipe, .job, default: 3600, positive: false, shown: "`1h`",
        doc: "how long one input's program may run before its process group gets SIGTERM, then SIGKILL a second later; the input fails with the signal; `0` no limit")
    public static let workingDirectory = Declare.optionalString(
        "sextant.pipe.workDir", .pipe, .job, shown: "where `run` or `submit` was started",
        doc: "the directory the program runs in (relative paths in the command are relative to it); the same path on every node")
    public static let environment = Declare.list(
        "sextant.pipe.env", .pipe, .job,
        doc: "`NAME=value` pairs, comma-separated, added to the program's environment; with an allow-list, variables that change what a program loads or runs (`LD_*`, `PATH`, `PYTHON*`, ...) are refused")

    public static let all = declarations(allowedCommands, timeout, workingDirectory, environment)
}
