import Engine
import Foundation
@testable import Pipeline
import TestSupport
import XCTest

/// `--pipe` below the command line: parsing, the allow-list, the preflight, and the operator
/// running real programs (/bin/sh scripts) through the engine's local backend.
final class PipeTemplateTests: XCTestCase {
    func testWordsSplitLikeAShellWithoutExpansion() throws {
        XCTAssertEqual(try ParsedTemplate.split(#"tool -a 'one two' "three \"q\" \$x" four\ five $HOME *.fits"#),
                       ["tool", "-a", "one two", #"three "q" \$x"#, "four five", "$HOME", "*.fits"])
        XCTAssertThrowsError(try PipeTemplate(command: "tool 'open {output}"))
        XCTAssertThrowsError(try PipeTemplate(command: "tool {input}"))  // commits nothing
        XCTAssertThrowsError(try PipeTemplate(command: "{input} {output}"))  // program must be literal
        XCTAssertThrowsError(try PipeTemplate(command: "tool {inptu} {output}")) { error in
            XCTAssertTrue("\(error)".contains("unknown placeholder {inptu}"), "\(error)")
        }
        XCTAssertThrowsError(try PipeTemplate(command: "tool {output:}"))
    }

    func testPlaceholdersStayOneArgumentEach() throws {
        let template = try PipeTemplate(command: "tool {input} -o={output:.cat} --also {output} {name} {stem} {dir} {{x}} '{print $1}'")
        let values = PipeValues(input: "/d/my frame.fits", name: "my frame.fits", stem: "my frame", directory: "/d",
                                outputs: [".cat": "/t/my frame.cat", nil: "/t/my frame.fits"])
        XCTAssertEqual(try template.arguments(values),
                       ["tool", "/d/my frame.fits", "-o=/t/my frame.cat", "--also", "/t/my frame.fits",
                        "my frame.fits", "my frame", "/d", "{x}", "{print $1}"])
        XCTAssertEqual(template.outputNames(for: "ccd3/f.fits.gz"), ["ccd3/f.cat", "ccd3/f.fits.gz"])
    }

    func testShellModeQuotesEveryValue() throws {
        let template = try PipeTemplate(command: "tool {input} > {output:.txt} 2>&1 | true", shell: true)
        let values = PipeValues(input: "/d/it's; rm -rf x.fits", name: "", stem: "", directory: "",
                                outputs: [".txt": "/t/o.txt"])
        let arguments = try template.arguments(values)
        XCTAssertEqual(arguments, ["/bin/sh", "-c", #"tool '/d/it'\''s; rm -rf x.fits' > '/t/o.txt' 2>&1 | true"#])
        XCTAssertEqual(try template.program, "/bin/sh")
    }
}

final class PipePolicyTests: XCTestCase {
    func testExecutorAllowsOnlyWhatItsConfNames() throws {
        let none = PipePolicy.executor([:])
        XCTAssertThrowsError(try none.resolve("sh", workingDirectory: "/")) { error in
            XCTAssertEqual(error as? PipeError, .notAllowed(program: "sh", allowed: []))
        }
        let some = PipePolicy.executor([PipePolicy.allowedCommandsKey: "sh, /usr/bin/env"])
        XCTAssertEqual(try some.resolve("sh", workingDirectory: "/"), some.locate("sh", workingDirectory: "/"))
        XCTAssertNoThrow(try some.resolve("/usr/bin/env", workingDirectory: "/"))
        XCTAssertThrowsError(try some.resolve("python3", workingDirectory: "/")) { error in
            XCTAssertEqual(error as? PipeError, .notAllowed(program: "python3", allowed: ["sh", "/usr/bin/env"]))
        }
        XCTAssertThrowsError(try some.resolve("no-such-tool-here", workingDirectory: "/")) { error in
            guard case .notFound? = error as? PipeError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try some.check(environment: ["LD_PRELOAD": "/tmp/x.so"]))
        XCTAssertNoThrow(try some.check(environment: ["OMP_NUM_THREADS": "1"]))
        XCTAssertNoThrow(try PipePolicy.local([:]).check(environment: ["LD_PRELOAD": "/tmp/x.so"]))
        XCTAssertNoThrow(try PipePolicy.local([:]).resolve("python3", workingDirectory: "/"))
    }

    func testPreflightNamesEachExecutorThatCannotRunTheProgram() throws {
        func executor(_ id: String, _ conf: [String: String]) -> ExecutorInfo {
            ExecutorInfo(id: ExecutorID(id), host: "h-\(id)", cores: 1, attributes: PipePolicy.executor(conf).attributes)
        }
        let key = PipePolicy.allowedCommandsKey
        let pipe = PipeJob(template: try PipeTemplate(command: "sh -c true {output}"), workingDirectory: "/")
        let executors = [executor("a", [key: "sh"]), executor("b", [:]), executor("c", [key: "python3"]),
                         executor("d", [key: "sh,no-such-tool-here"]), executor("e", [key: "*"])]
        XCTAssertThrowsError(try PipePreflight.check(pipe, executors: executors)) { error in
            guard case .preflight(let lines)? = error as? PipeError else { return XCTFail("\(error)") }
            XCTAssertEqual(lines.count, 2, "\(lines)")
            XCTAssertTrue(lines[0].hasPrefix("executor b on h-b: sh is not allowed: pipes are off"), lines[0])
            XCTAssertTrue(lines[1].hasPrefix("executor c on h-c: sh is not in its \(key) (python3)"), lines[1])
        }
        let missing = PipeJob(template: try PipeTemplate(command: "no-such-tool-here {output}"), workingDirectory: "/")
        XCTAssertThrowsError(try PipePreflight.check(missing, executors: [executors[3]])) { error in
            XCTAssertTrue("\(error)".contains("no-such-tool-here is allowed but not installed there"), "\(error)")
        }
        XCTAssertNoThrow(try PipePreflight.check(pipe, executors: [executors[0], executors[4]]))
    }
}

final class PipeOperatorTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try TestSupport.makeTemporaryDirectory("pipe")
        PipePolicy.current = .local([:])
    }

    override func tearDownWithError() throws {
        PipePolicy.current = PipePolicy(allowed: [])
        try? FileManager.default.removeItem(at: directory)
    }

    private func inputs(_ names: [String]) throws -> [InputFile] {
        let inputDirectory = directory.appendingPathComponent("in")
        try FileManager.default.createDirectory(at: inputDirectory, withIntermediateDirectories: true)
        return try names.map { name in
            let url = inputDirectory.appendingPathComponent(name)
            try Data("pixels of \(name)\n".utf8).write(to: url)
            return InputFile(uri: url.path, relativePath: name)
        }
    }

    private func run(_ command: String, _ inputs: [InputFile], shell: Bool = false,
                     settings: [String: String] = [:]) throws -> (JobReport, [ManifestEntry], URL) {
        let out = directory.appendingPathComponent("out")
        let spec = JobSpec(inputs: inputs, parameters: ExtractParameters(output: out.path), settings: settings,
                           pipe: PipeJob(template: try PipeTemplate(command: command, shell: shell),
                                         workingDirectory: directory.path))
        let report = try PipelineFixtures.runLocal(spec, settings: try EngineSettings(Configuration(["sextant.task.maxFailures": "1"])))
        return (report, try PipelineFixtures.manifest(in: out), out)
    }

    private static func scratchDirectories() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path)
            .filter { $0.hasPrefix("sextant-pipe-") })
    }

    func testOutputsAreCommittedByteForByteUnderTheInputsNames() throws {
        let before = try Self.scratchDirectories()
        // Bytes a text codec would mangle: invalid UTF-8, NUL, CR LF.
        let (report, entries, out) = try run(
            #"sh -c 'cat "$1" > "$2"; printf "\377\000\r\n" >> "$2"; echo side > "$3"' sh {input} {output:.cat} {output:.side}"#,
            try inputs(["a.fits", "b.fits.gz"]))
        XCTAssertEqual(report.committed, 2)
        XCTAssertEqual(entries.map(\.outcome), [.committed, .committed])
        XCTAssertEqual(entries[0].outputs, ["a.cat", "a.side"])
        let bytes = try Data(contentsOf: out.appendingPathComponent("a.cat"))
        XCTAssertEqual(bytes, Data("pixels of a.fits\n".utf8) + Data([0xff, 0x00, 0x0d, 0x0a]))
        let sum = try TestSupport.run("/usr/bin/sha256sum", [out.appendingPathComponent("a.cat").path])
        XCTAssertEqual(entries[0].sha256, sum.stdout.split(separator: " ").first.map(String.init))
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("b.side"), encoding: .utf8), "side\n")
        XCTAssertEqual(try Self.scratchDirectories().subtracting(before), [], "scratch directories are removed")
    }

    /// The program gets stdin, stdout and stderr and nothing else of Sextant's open files.
    func testTheProgramInheritsOnlyTheStandardDescriptors() throws {
        let held = open("/dev/null", O_RDONLY)  // a descriptor this process holds without CLOEXEC
        defer { close(held) }
        XCTAssertGreaterThan(held, 2)
        let (report, _, out) = try run(#"sh -c 'ls /proc/$$/fd > "$1"' sh {output:.txt}"#, try inputs(["a.fits"]))
        XCTAssertEqual(report.committed, 1)
        let listed = try String(contentsOf: out.appendingPathComponent("a.txt"), encoding: .utf8)
            .split(separator: "\n").compactMap { Int32($0) }
        // sh itself keeps a copy of fd 1 (as 10) while it redirects ls's output.
        XCTAssertFalse(listed.contains(held), "descriptors seen by the program: \(listed)")
    }

    func testFailuresAreReportedWithStatusCommandAndStderrAndTheRestIsCommitted() throws {
        // A shell script: it starts in milliseconds even on a loaded machine, so a short timeout
        // only ever catches the sleeper (the end-to-end test does the same in Python).
        let script = directory.appendingPathComponent("measure.sh")
        try """
        case "$1" in
        *bad.fits) i=0; while [ $i -lt 40 ]; do echo "line $i" >&2; i=$((i + 1)); done
                   echo "bad.fits: no stars here" >&2; exit 3 ;;
        *slow.fits) echo thinking >&2; sleep 60 ;;
        *lazy.fits) exit 0 ;;
        esac
        echo ok > "$2"
        """.write(to: script, atomically: true, encoding: .utf8)
        let started = Date()
        let (report, entries, out) = try run("sh \(script.path) {input} {output:.txt}",
                                             try inputs(["good.fits", "bad.fits", "slow.fits", "lazy.fits"]),
                                             settings: ["sextant.pipe.timeout": "2s"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "the timeout killed the sleeper")
        XCTAssertEqual(report.committed, 1)
        XCTAssertEqual(report.failed, 3)
        XCTAssertEqual(entries.map(\.outcome), [.committed, .failed, .failed, .failed])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("good.txt").path))

        let bad = entries[1]
        XCTAssertEqual(bad.exitStatus, 3)
        XCTAssertTrue(bad.command?.hasPrefix("sh \(script.path) ") == true, bad.command ?? "")
        XCTAssertEqual(bad.stderr?.split(separator: "\n").count, StderrTail.maxLines)
        XCTAssertEqual(bad.stderr?.split(separator: "\n").last, "bad.fits: no stars here")
        XCTAssertTrue(bad.error?.contains("sh exited with status 3: bad.fits: no stars here") == true, bad.error ?? "")

        let slow = entries[2]
        XCTAssertEqual(slow.signal, Int(SIGTERM))
        XCTAssertEqual(slow.stderr, "thinking")
        XCTAssertTrue(slow.error?.contains("ran past sextant.pipe.timeout (2 s) and was killed") == true, slow.error ?? "")

        XCTAssertEqual(entries[3].exitStatus, 0)
        XCTAssertTrue(entries[3].error?.contains("exited 0 but did not write lazy.txt") == true, entries[3].error ?? "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("bad.txt").path))
    }

    func testTheEnvironmentAndWorkingDirectoryComeFromTheConf() throws {
        let (report, _, out) = try run(#"sh -c 'echo "$GREETING from $(pwd)" > "$1"' sh {output:.txt}"#, try inputs(["a.fits"]),
                                       settings: ["sextant.pipe.env": "GREETING=hello=world, OTHER=1"])
        XCTAssertEqual(report.committed, 1)
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("a.txt"), encoding: .utf8),
                       "hello=world from \(directory.path)\n")
        XCTAssertThrowsError(try PipeSettings(Configuration(["sextant.pipe.env": "NOVALUE"])))
        XCTAssertEqual(try PipeSettings.workingDirectory(Configuration(["sextant.pipe.workDir": "sub/../w"]), fallback: "/base"),
                       "/base/w")
    }

    func testResumeSkipsInputsWhoseOutputsAreAllCommitted() throws {
        let files = try inputs(["a.fits", "b.fits"])
        let command = #"sh -c 'echo 1 > "$1"; echo 2 > "$2"' sh {output:.one} {output:.two}"#
        _ = try run(command, files)
        let out = directory.appendingPathComponent("out")
        try FileManager.default.removeItem(at: out.appendingPathComponent("b.two"))  // b is half there
        let spec = JobSpec(inputs: files, parameters: ExtractParameters(output: out.path), resume: true,
                           pipe: PipeJob(template: try PipeTemplate(command: command), workingDirectory: directory.path))
        let report = try PipelineFixtures.runLocal(spec)
        XCTAssertEqual(report.skipped, 1)
        XCTAssertEqual(report.committed, 1)
        XCTAssertEqual(try PipelineFixtures.manifest(in: out).map(\.outcome), [.skipped, .committed])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("b.two").path))
    }

    func testWhatSextantOpensForTheProgramStaysUnderTheExecutorsRoots() throws {
        let marker = directory.appendingPathComponent("ran")
        let files = try inputs(["a.fits"])
        func entries(output: String, workDir: String, roots: String) throws -> [ManifestEntry] {
            let op = try PipeOperator(parameters: PipeParameters(
                output: output, template: try PipeTemplate(command: "touch \(marker.path) {output:.cat}"),
                workingDirectory: workDir))
            let context = TaskContext(attemptID: TaskAttemptID(jobID: "j", partition: 0, attempt: 0), executor: "e",
                                      settings: [AllowedRoots.key: roots])
            return try op.apply(files, context: context)
        }
        let out = directory.appendingPathComponent("out").path
        let inside = directory.path
        let outsideOutput = try entries(output: "/var/tmp/elsewhere", workDir: inside, roots: inside)
        XCTAssertEqual(outsideOutput.map(\.outcome), [.failed])
        XCTAssertTrue(outsideOutput[0].error?.contains("the output is outside sextant.executor.allowedRoots") == true)
        XCTAssertEqual(outsideOutput[0].catalog, "a.cat")
        let outsideWorkDir = try entries(output: out, workDir: "/", roots: inside)
        XCTAssertTrue(outsideWorkDir[0].error?.contains("the --pipe working directory is outside") == true,
                      outsideWorkDir[0].error ?? "")
        let outsideInput = try entries(output: out, workDir: out, roots: out)
        XCTAssertTrue(outsideInput[0].error?.contains("the input is outside") == true, outsideInput[0].error ?? "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path), "no program ran for a refused input")
        XCTAssertEqual(try entries(output: out, workDir: inside, roots: inside).map(\.outcome), [.committed])
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker.path))
    }

    func testAnEmptyPartitionStartsNoProgram() throws {
        let marker = directory.appendingPathComponent("ran")
        let op = try PipeOperator(parameters: PipeParameters(
            output: directory.appendingPathComponent("out").path,
            template: try PipeTemplate(command: "touch \(marker.path) {output}"), workingDirectory: directory.path))
        let context = TaskContext(attemptID: TaskAttemptID(jobID: "j", partition: 0, attempt: 0), executor: "e")
        XCTAssertEqual(try op.apply([], context: context), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path))
        XCTAssertEqual(try op.apply(try inputs(["x.fits"]), context: context).map(\.outcome), [.committed])
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker.path))
    }

    func testCancellingKillsTheWholeProcessGroup() throws {
        let pids = directory.appendingPathComponent("pids")
        let op = try PipeOperator(parameters: PipeParameters(
            output: directory.appendingPathComponent("out").path,
            // The shell starts a grandchild and waits: both must die.
            template: try PipeTemplate(command: "sleep 60 & echo $! > \(pids.path); echo $$ >> \(pids.path); wait; : {output}", shell: true),
            workingDirectory: directory.path))
        let cancelled = Locked(false)
        let context = TaskContext(attemptID: TaskAttemptID(jobID: "j", partition: 0, attempt: 0), executor: "e",
                                  isCancelled: { cancelled.value })
        let input = try inputs(["x.fits"])
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { cancelled.update { $0 = true } }
        XCTAssertThrowsError(try op.apply(input, context: context)) { error in
            XCTAssertTrue(error is TaskCancelled, "\(error)")
        }
        let started = try String(contentsOf: pids, encoding: .utf8).split(separator: "\n").compactMap { pid_t($0) }
        XCTAssertEqual(started.count, 2)
        for pid in started {
            XCTAssertTrue(TestSupport.eventually { !TestSupport.isAlive(pid) }, "process \(pid) is still alive")
        }
    }
}
