import Foundation
import TestSupport
import XCTest

/// The deployment scripts as a user runs them: start-cluster / stop-cluster (locally and over
/// ssh), a single-node Slurm running sextant.sbatch, the EC2 launch in dry-run mode and its
/// user data, the systemd units, and shellcheck over all of them.
final class DeploymentTests: XCTestCase {
    // MARK: start-cluster / stop-cluster

    func testStartClusterOnLocalhostRunsAJobAndStopClusterLeavesNothing() throws {
        let dir = try TestSupport.makeTemporaryDirectory("deploy-local")
        let executors = dir.appendingPathComponent("executors")
        try "# two executors on this machine\nlocalhost\nlocalhost cores=1\n".write(to: executors, atomically: true, encoding: .utf8)
        let runDir = dir.appendingPathComponent("run")
        let env = clusterEnvironment(runDir: runDir, executors: executors)
        addTeardownBlock { _ = try? Scripts.run("stop-cluster", environment: env) }

        let start = try Scripts.run("start-cluster", environment: env)
        XCTAssertEqual(start.status, 0, start.stdout + start.stderr)
        XCTAssertTrue(start.stdout.contains("2 of 2 executors registered"), start.stdout)
        let pids = try Scripts.pids(in: runDir)
        XCTAssertEqual(pids.count, 3, "a master and two executors")
        XCTAssertTrue(pids.values.allSatisfy { kill($0, 0) == 0 }, "every daemon in a pid file is alive")
        let secret = try String(contentsOf: runDir.appendingPathComponent("secret"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(try Scripts.permissions(runDir.appendingPathComponent("secret")), 0o600)
        XCTAssertFalse(Scripts.commandLines(containing: runDir.path).contains { $0.contains(secret) },
                       "the secret is never on a command line")

        try runJob(frames: 6, in: dir, env: env)

        let stop = try Scripts.run("stop-cluster", environment: env)
        XCTAssertEqual(stop.status, 0, stop.stdout + stop.stderr)
        XCTAssertTrue(pids.values.allSatisfy { kill($0, 0) != 0 }, "every daemon is gone")
        XCTAssertEqual(Scripts.commandLines(containing: runDir.path), [], "no process of this cluster remains")
        XCTAssertEqual(try Scripts.pids(in: runDir), [:], "pid files removed")
    }

    /// An executor "host" reached through ssh: a stand-in ssh that runs the remote command here,
    /// through a shell as sshd would, proves the quoting, BatchMode and the secret on stdin.
    func testStartClusterStartsAndStopsRemoteExecutorsThroughSsh() throws {
        let dir = try TestSupport.makeTemporaryDirectory("deploy-ssh")
        let executors = dir.appendingPathComponent("executors")
        try "node-a cores=1   # over ssh\n".write(to: executors, atomically: true, encoding: .utf8)
        let sshLog = dir.appendingPathComponent("ssh.log")
        let ssh = try Scripts.writeExecutable(dir.appendingPathComponent("fake-ssh"), """
            #!/usr/bin/env bash
            printf '%s\\n' "$*" >> \(sshLog.path)
            while [[ $1 == -* ]]; do
                case $1 in -o) shift 2 ;; -n) exec </dev/null; shift ;; *) shift ;; esac
            done
            shift # the host
            exec bash -c "$*"
            """)
        let runDir = dir.appendingPathComponent("run with space")
        var env = clusterEnvironment(runDir: runDir, executors: executors)
        env["SEXTANT_SSH"] = ssh.path
        env["SEXTANT_MASTER_HOST"] = "127.0.0.1"
        env["SEXTANT_MASTER_BIND"] = "127.0.0.1"
        env["SEXTANT_AUTH_SECRET"] = "secret-\(UUID().uuidString)"
        addTeardownBlock { _ = try? Scripts.run("stop-cluster", environment: env) }

        let start = try Scripts.run("start-cluster", environment: env)
        XCTAssertEqual(start.status, 0, start.stdout + start.stderr)
        try runJob(frames: 3, in: dir, env: env)
        let stop = try Scripts.run("stop-cluster", environment: env)
        XCTAssertEqual(stop.status, 0, stop.stdout + stop.stderr)

        let calls = try String(contentsOf: sshLog, encoding: .utf8)
        XCTAssertEqual(calls.split(separator: "\n").filter { $0.contains("BatchMode=yes") && $0.contains("node-a") }.count, 3,
                       "secret copy, start and stop, all with BatchMode:\n\(calls)")
        XCTAssertTrue(calls.contains("sextant-daemon start executor-1") && calls.contains("sextant-daemon stop executor-1"), calls)
        XCTAssertFalse(calls.contains(env["SEXTANT_AUTH_SECRET"]!), "the secret went through stdin, not arguments")
        XCTAssertEqual(try String(contentsOf: runDir.appendingPathComponent("secret"), encoding: .utf8),
                       env["SEXTANT_AUTH_SECRET"]! + "\n")
        // Executors were given the executor credential, not the secret: they cannot submit jobs.
        let credential = try String(contentsOf: runDir.appendingPathComponent("executor.credential"), encoding: .utf8)
        XCTAssertTrue(credential.hasPrefix("sextant-credential-v1:executor:"), credential)
        XCTAssertEqual(try Scripts.permissions(runDir.appendingPathComponent("executor.credential")), 0o600)
        XCTAssertTrue(calls.contains("executor.credential"), "the credential is what is copied: \(calls)")
        XCTAssertEqual(Scripts.commandLines(containing: runDir.path), [], "no process of this cluster remains")
    }

    /// Real ssh: an sshd of the test's own on 127.0.0.1 (its own host key, authorized key and
    /// port), two executor "hosts" that an ssh config maps to it. BatchMode is on, so a missing
    /// key would fail rather than prompt.
    func testStartClusterOverRealSsh() throws {
        _ = try Scripts.installed("sshd", package: "openssh-server", directory: "/usr/sbin")
        let dir = try TestSupport.makeTemporaryDirectory("deploy-sshd")
        let sshd = try LocalSshd(directory: dir)
        addTeardownBlock { sshd.stop() }
        try sshd.start()

        let executors = dir.appendingPathComponent("executors")
        try "node-a cores=1\nnode-b cores=1\n".write(to: executors, atomically: true, encoding: .utf8)
        let runDir = dir.appendingPathComponent("run")
        var env = clusterEnvironment(runDir: runDir, executors: executors)
        env["SEXTANT_SSH_OPTS"] = "-F \(sshd.clientConfig.path)"
        env["SEXTANT_MASTER_HOST"] = "127.0.0.1"
        env["SEXTANT_MASTER_BIND"] = "127.0.0.1"
        addTeardownBlock { _ = try? Scripts.run("stop-cluster", environment: env) }

        let start = try Scripts.run("start-cluster", environment: env)
        XCTAssertEqual(start.status, 0, start.stdout + start.stderr + sshd.log)
        XCTAssertTrue(start.stdout.contains("2 of 2 executors registered"), start.stdout)
        XCTAssertEqual(sshd.log.components(separatedBy: "Accepted publickey").count - 1, 4,
                       "a secret copy and a start per host, by key: \(sshd.log)")
        try runJob(frames: 4, in: dir, env: env)
        let stop = try Scripts.run("stop-cluster", environment: env)
        XCTAssertEqual(stop.status, 0, stop.stdout + stop.stderr)
        XCTAssertEqual(Scripts.commandLines(containing: runDir.path), [], "no process of this cluster remains")
    }

    func testStartClusterRejectsABadExecutorsLine() throws {
        let dir = try TestSupport.makeTemporaryDirectory("deploy-bad")
        let executors = dir.appendingPathComponent("executors")
        try "localhost\nnode-b threads=4\n".write(to: executors, atomically: true, encoding: .utf8)
        let env = clusterEnvironment(runDir: dir.appendingPathComponent("run"), executors: executors)
        let start = try Scripts.run("start-cluster", environment: env)
        XCTAssertNotEqual(start.status, 0)
        XCTAssertTrue(start.stderr.contains("\(executors.path) line 2"), start.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/master.pid").path),
                       "nothing started")
    }

    // MARK: Slurm

    /// A real single-node Slurm (slurmctld, slurmd, munged) on 127.0.0.1 runs sextant.sbatch to the
    /// end, then a second batch is cancelled mid-job; neither leaves a process behind.
    func testSlurmBatchRunsTheJobAndScancelLeavesNoProcess() throws {
        let dir = try TestSupport.makeTemporaryDirectory("deploy-slurm")
        let slurmDir = dir.appendingPathComponent("slurm")
        let up = try Scripts.run("slurm/local-slurm", ["up", slurmDir.path], timeout: 300)
        if up.status == 3 { throw XCTSkip("Slurm and munge cannot be installed here: \(up.stderr)") }
        addTeardownBlock { _ = try? Scripts.run("slurm/local-slurm", ["down", slurmDir.path]) }
        XCTAssertEqual(up.status, 0, up.stdout + up.stderr)
        guard up.status == 0 else { return }

        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: 40, into: frames)
        let inputs = try FileManager.default.contentsOfDirectory(atPath: frames.path).filter { $0.hasSuffix(".fits") }
        let runDir = dir.appendingPathComponent("run")
        var env = [
            "SLURM_CONF": slurmDir.appendingPathComponent("slurm.conf").path,
            "SEXTANT_HOME": TestSupport.repoRoot.path, "SEXTANT_BIN": Sextant.binary,
            "SEXTANT_MASTER_HOST": "127.0.0.1", "SEXTANT_MASTER_BIND": "127.0.0.1",
            "SEXTANT_MASTER_PORT": "\(ClusterHarness.freePort())", "SEXTANT_RUN_DIR": runDir.path,
        ]

        // To the end: sbatch --wait returns the job's exit status.
        let out = dir.appendingPathComponent("catalogs")
        env["SEXTANT_INPUTS"] = frames.path
        env["SEXTANT_OUTPUT"] = out.path
        let batch = try TestSupport.run("/usr/bin/timeout", ["120", "/usr/bin/sbatch", "--wait", "--nodes=1", "--output=\(dir.path)/job-%j.out",
                                                            Scripts.path("slurm/sextant.sbatch")], environment: env)
        let jobOutput = Scripts.read(dir, suffix: ".out")
        XCTAssertEqual(batch.status, 0, batch.stderr + jobOutput)
        let catalogs = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
        for input in inputs {
            XCTAssertTrue(catalogs.contains(input.replacingOccurrences(of: ".fits", with: ".cat.fits")), "\(input): \(jobOutput)")
        }
        XCTAssertTrue(jobOutput.contains("1 of 1 executors registered"), jobOutput)
        // The executors ran on the executor credential, not the cluster secret.
        let credential = try String(contentsOf: runDir.appendingPathComponent("executor.credential"), encoding: .utf8)
        let secret = try String(contentsOf: runDir.appendingPathComponent("secret"), encoding: .utf8)
        XCTAssertNotEqual(credential.trimmingCharacters(in: .whitespacesAndNewlines), secret.trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(Scripts.commandLines(containing: runDir.path), [], "no sextant process after the job")
        XCTAssertTrue(Scripts.read(runDir, suffix: ".log").contains("sextant executor: stopping"),
                      "the executors got SIGTERM and left cleanly: \(Scripts.read(runDir, suffix: ".log"))")

        // Cancelled mid-job: the trap stops the client, the executors' step and the master.
        let cancelledOut = dir.appendingPathComponent("cancelled")
        env["SEXTANT_OUTPUT"] = cancelledOut.path
        env["SEXTANT_RUN_DIR"] = runDir.path + "-2"
        env["SEXTANT_MASTER_PORT"] = "\(ClusterHarness.freePort())"
        let submitted = try TestSupport.run("/usr/bin/sbatch", ["--parsable", "--nodes=1", "--output=\(dir.path)/cancel-%j.log",
                                                                Scripts.path("slurm/sextant.sbatch")], environment: env)
        XCTAssertEqual(submitted.status, 0, submitted.stderr)
        let jobID = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(Scripts.waitUntil(timeout: 60) {
            ((try? FileManager.default.contentsOfDirectory(atPath: cancelledOut.path)) ?? []).contains { $0.hasSuffix(".cat.fits") }
        }, "the job started writing catalogs: \(Scripts.read(dir, suffix: ".log"))")
        XCTAssertFalse(Scripts.commandLines(containing: runDir.path + "-2").isEmpty, "the cluster runs before scancel")
        XCTAssertEqual(try TestSupport.run("/usr/bin/scancel", [jobID], environment: env).status, 0)
        XCTAssertTrue(Scripts.waitUntil(timeout: 30) {
            (try? TestSupport.run("/usr/bin/squeue", ["-h", "-j", jobID], environment: env).stdout.isEmpty) ?? false
        }, "the job ended after scancel")
        XCTAssertTrue(Scripts.waitUntil(timeout: 10) { Scripts.commandLines(containing: runDir.path + "-2").isEmpty },
                      "no sextant process after scancel: \(Scripts.commandLines(containing: runDir.path + "-2"))")
        XCTAssertTrue(Scripts.read(dir, suffix: ".log").contains("cluster stopped"), Scripts.read(dir, suffix: ".log"))
    }

    // MARK: EC2

    func testEC2LaunchDryRunPrintsTheAwsCallsAndTeardownUndoesThem() throws {
        let dir = try TestSupport.makeTemporaryDirectory("deploy-ec2")
        let tarball = dir.appendingPathComponent("sextant.tar.gz")
        try Data("stand-in".utf8).write(to: tarball)
        let env = ["SEXTANT_EC2_STATE": dir.appendingPathComponent("state").path, "AWS_REGION": "eu-west-1"]
        let launch = try Scripts.run("ec2/launch", ["--name", "t1", "--tarball", tarball.path, "--bucket", "survey-bucket",
                                                    "--executors", "3", "--key-name", "ops", "--dry-run"], environment: env)
        XCTAssertEqual(launch.status, 0, launch.stdout + launch.stderr)
        let calls = launch.stdout.split(separator: "\n").filter { $0.hasPrefix("aws-call: ") }.map { String($0.dropFirst(10)) }
        func call(_ prefix: String) -> [String] { calls.filter { $0.hasPrefix(prefix) } }
        XCTAssertTrue(calls.allSatisfy { $0.hasSuffix("--region eu-west-1") }, calls.joined(separator: "\n"))
        XCTAssertEqual(call("aws s3 cp --only-show-errors \(tarball.path) s3://survey-bucket/sextant/t1/sextant.tar.gz").count, 1)
        XCTAssertEqual(call("aws ssm put-parameter --cli-input-json file://").count, 2,
                       "the secret and the executor credential go from files")
        XCTAssertEqual(call("aws ec2 create-security-group --group-name sextant-t1").count, 1)
        // Ingress: the master port from the group itself, nothing else (no --ssh-cidr given).
        XCTAssertEqual(call("aws ec2 authorize-security-group-ingress"), [
            "aws ec2 authorize-security-group-ingress --group-id sg-DRYRUN --ip-permissions "
                + "IpProtocol=tcp\\,FromPort=7077\\,ToPort=7077\\,UserIdGroupPairs=\\[\\{GroupId=sg-DRYRUN\\}\\] --region eu-west-1",
        ])
        XCTAssertEqual(call("aws iam create-instance-profile --instance-profile-name sextant-t1 ").count, 1)
        XCTAssertEqual(call("aws iam create-instance-profile --instance-profile-name sextant-t1-executor ").count, 1)
        let runs = call("aws ec2 run-instances")
        XCTAssertEqual(runs.count, 2, "master, then executors")
        XCTAssertTrue(runs[0].contains("--count 1 ") && runs[0].contains("user-data-master.sh"), runs[0])
        XCTAssertTrue(runs[1].contains("--count 3 ") && runs[1].contains("user-data-executor.sh"), runs[1])
        XCTAssertTrue(runs[0].contains("--iam-instance-profile Name=sextant-t1 "), runs[0])
        XCTAssertTrue(runs[1].contains("--iam-instance-profile Name=sextant-t1-executor "), runs[1])
        XCTAssertTrue(runs.allSatisfy { $0.contains("--key-name ops")
            && $0.contains("--security-group-ids sg-DRYRUN") && $0.contains("--image-id ami-DRYRUN") })
        XCTAssertFalse(launch.stdout.contains("aws_access_key") || launch.stdout.lowercased().contains("secret-access"))
        let secret = try String(contentsOf: dir.appendingPathComponent("state/t1/secret"), encoding: .utf8)
        XCTAssertEqual(secret.count, 64)
        XCTAssertFalse(launch.stdout.contains(secret), "the secret is never printed or passed as an argument")
        let executorData = try String(contentsOf: dir.appendingPathComponent("state/t1/user-data-executor.sh"), encoding: .utf8)
        XCTAssertTrue(executorData.contains("export SEXTANT_MASTER_HOST=MASTER-PRIVATE-IP"), executorData)
        XCTAssertFalse(executorData.contains(secret), "user data (readable through the instance metadata) holds no secret")
        // Executors fetch only the executor credential, and their role may read only that.
        XCTAssertTrue(executorData.contains("export SEXTANT_SECRET_PARAMETER=/sextant/t1/executor-credential"), executorData)
        let masterData = try String(contentsOf: dir.appendingPathComponent("state/t1/user-data-master.sh"), encoding: .utf8)
        XCTAssertTrue(masterData.contains("export SEXTANT_SECRET_PARAMETER=/sextant/t1/secret\n"), masterData)
        let executorPolicy = try String(contentsOf: dir.appendingPathComponent("state/t1/policy-sextant-t1-executor.json"),
                                        encoding: .utf8)
        XCTAssertTrue(executorPolicy.contains("parameter/sextant/t1/executor-credential\""), executorPolicy)
        XCTAssertFalse(executorPolicy.contains("parameter/sextant/t1/secret"), executorPolicy)
        let masterPolicy = try String(contentsOf: dir.appendingPathComponent("state/t1/policy-sextant-t1.json"), encoding: .utf8)
        XCTAssertTrue(masterPolicy.contains("parameter/sextant/t1/secret\""), masterPolicy)
        // launch derives the credential in bash: it is the one `sextant credential executor` makes.
        let derived = dir.appendingPathComponent("derived.credential")
        let made = try TestSupport.run(Sextant.binary, ["credential", "executor", "--out", derived.path, "--conf",
                                                         "sextant.authenticate.secretFile=\(dir.path)/state/t1/secret"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let credentialFile = dir.appendingPathComponent("state/t1/executor.credential")
        XCTAssertEqual(try String(contentsOf: credentialFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
                       try String(contentsOf: derived, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        XCTAssertEqual(try Scripts.permissions(credentialFile), 0o600)

        let teardown = try Scripts.run("ec2/teardown", ["--name", "t1", "--bucket", "survey-bucket", "--dry-run"], environment: env)
        XCTAssertEqual(teardown.status, 0, teardown.stdout + teardown.stderr)
        for expected in ["aws ec2 terminate-instances --instance-ids i-DRYRUNMASTER i-DRYRUNEXECUTOR",
                         "aws ec2 delete-security-group --group-id sg-DRYRUN", "aws iam delete-role --role-name sextant-t1",
                         "aws ssm delete-parameter --name /sextant/t1/secret",
                         "aws ssm delete-parameter --name /sextant/t1/executor-credential",
                         "aws iam delete-role --role-name sextant-t1-executor",
                         "aws s3 rm --only-show-errors --recursive s3://survey-bucket/sextant/t1/"] {
            XCTAssertTrue(teardown.stdout.contains("aws-call: " + expected), "\(expected)\n\(teardown.stdout)")
        }

        let missing = try Scripts.run("ec2/launch", ["--name", "t1", "--tarball", dir.appendingPathComponent("none.tgz").path,
                                                     "--bucket", "b", "--dry-run"], environment: env)
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("none.tgz"), missing.stderr)
    }

    /// The user data run for real in a scratch root, with apt-get, aws, useradd and systemctl
    /// replaced by recorders; then the units' ExecStart lines, expanded as systemd would, start a
    /// master and an executor from what it installed, and the executor joins with the secret.
    func testEC2UserDataInstallsUnitsWhoseCommandsRunACluster() throws {
        let dir = try TestSupport.makeTemporaryDirectory("deploy-userdata")
        let stage = dir.appendingPathComponent("sextant-test")
        try FileManager.default.createDirectory(at: stage.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: stage.appendingPathComponent("bin/sextant").path,
                                                   withDestinationPath: Sextant.binary)
        try FileManager.default.copyItem(at: TestSupport.repoRoot.appendingPathComponent("conf"),
                                         to: stage.appendingPathComponent("conf"))
        try "libsep1\nlibcfitsio10\n".write(to: stage.appendingPathComponent("RUNTIME-PACKAGES"), atomically: true, encoding: .utf8)
        let tarball = dir.appendingPathComponent("sextant.tar.gz")
        let tar = try TestSupport.run("/bin/tar", ["-czhf", tarball.path, "-C", dir.path, "sextant-test"])
        XCTAssertEqual(tar.status, 0, tar.stderr)

        let env = ["SEXTANT_EC2_STATE": dir.appendingPathComponent("state").path, "AWS_REGION": "eu-west-1"]
        let launch = try Scripts.run("ec2/launch", ["--name", "t2", "--tarball", tarball.path, "--bucket", "b", "--dry-run"],
                                     environment: env)
        XCTAssertEqual(launch.status, 0, launch.stderr)

        let mocks = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: mocks, withIntermediateDirectories: true)
        let calls = dir.appendingPathComponent("calls.log")
        let secret = "ec2-secret-\(UUID().uuidString)"
        let secretSource = dir.appendingPathComponent("secret-source")
        try secret.write(to: secretSource, atomically: true, encoding: .utf8)
        let credentialSource = dir.appendingPathComponent("credential-source")
        let made = try TestSupport.run(Sextant.binary, ["credential", "executor", "--out", credentialSource.path,
                                                         "--conf", "sextant.authenticate.secretFile=\(secretSource.path)"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let credential = try String(contentsOf: credentialSource, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        for program in ["apt-get", "useradd", "systemctl"] {
            _ = try Scripts.writeExecutable(mocks.appendingPathComponent(program),
                                            "#!/bin/sh\necho \"\(program) $*\" >> \(calls.path)\n")
        }
        _ = try Scripts.writeExecutable(mocks.appendingPathComponent("id"), "#!/bin/sh\nexit 1\n")
        _ = try Scripts.writeExecutable(mocks.appendingPathComponent("aws"), """
            #!/bin/bash
            echo "aws $*" >> \(calls.path)
            case "$1 $2" in
            "s3 cp") for last; do :; done; cp \(tarball.path) "$last" ;;
            "ssm get-parameter")
                case "$*" in
                *" --name /sextant/t2/secret "*) echo "\(secret)" ;;
                *" --name /sextant/t2/executor-credential "*) echo "\(credential)" ;;
                *) exit 1 ;;
                esac ;;
            *) exit 1 ;;
            esac
            """)

        var processes: [Process] = []
        addTeardownBlock { for process in processes { TestSupport.stop(process) } }
        let port = ClusterHarness.freePort()
        for role in ["master", "executor"] {
            let root = dir.appendingPathComponent("root-\(role)")
            let userData = dir.appendingPathComponent("state/t2/user-data-\(role).sh").path
            let run = try TestSupport.run("/bin/bash", [userData], environment: [
                "SEXTANT_ROOT": root.path, "PATH": mocks.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
            ])
            XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
            let unit = "sextant-\(role).service"
            XCTAssertEqual(try String(contentsOf: root.appendingPathComponent("etc/systemd/system/\(unit)"), encoding: .utf8),
                           try String(contentsOf: TestSupport.repoRoot.appendingPathComponent("conf/systemd/\(unit)"), encoding: .utf8))
            let secretFile = root.appendingPathComponent("etc/sextant/secret")
            // The master gets the cluster secret, an executor only its credential.
            XCTAssertEqual(try String(contentsOf: secretFile, encoding: .utf8), (role == "master" ? secret : credential) + "\n")
            XCTAssertEqual(try Scripts.permissions(secretFile), 0o600)
            XCTAssertEqual(try TestSupport.run(root.appendingPathComponent("opt/sextant/bin/sextant").path, ["--help"]).status, 0)
            let log = try String(contentsOf: calls, encoding: .utf8)
            for expected in ["aws s3 cp --only-show-errors --region eu-west-1 s3://b/sextant/t2/sextant.tar.gz",
                             "aws ssm get-parameter --region eu-west-1 --name /sextant/t2/"
                                 + (role == "master" ? "secret" : "executor-credential") + " --with-decryption",
                             "apt-get install -y -qq libsep1 libcfitsio10", "useradd --system",
                             "systemctl enable --now \(unit)"] {
                XCTAssertTrue(log.contains(expected), "\(expected)\n\(log)")
            }

            // As an admin would: this test's port and loopback in sextant.env, then start the unit.
            let envFile = root.appendingPathComponent("etc/sextant/sextant.env")
            var settings = try String(contentsOf: envFile, encoding: .utf8)
            if role == "master" {
                settings = settings.replacingOccurrences(of: "SEXTANT_MASTER_BIND=0.0.0.0", with: "SEXTANT_MASTER_BIND=127.0.0.1")
                    .replacingOccurrences(of: "SEXTANT_MASTER_PORT=7077", with: "SEXTANT_MASTER_PORT=\(port)")
            } else {
                XCTAssertTrue(settings.contains("SEXTANT_MASTER=sextant://MASTER-PRIVATE-IP:7077"), settings)
                settings = settings.replacingOccurrences(of: "MASTER-PRIVATE-IP:7077", with: "127.0.0.1:\(port)")
            }
            try settings.write(to: envFile, atomically: true, encoding: .utf8)
            let command = try SystemdUnit(root.appendingPathComponent("etc/systemd/system/\(unit)")).commandLine(root: root)
            let logURL = dir.appendingPathComponent("\(role).log")
            processes.append(try Sextant.start(Array(command.dropFirst()), logTo: logURL,
                                               environment: ["SEXTANT_CONF_DIR": root.appendingPathComponent("etc/sextant").path]))
        }
        let masterLog = dir.appendingPathComponent("master.log")
        XCTAssertTrue(Scripts.waitUntil(timeout: 30) {
            ((try? String(contentsOf: masterLog, encoding: .utf8)) ?? "").contains(" registered: ")
        }, "the executor joined: \(Scripts.read(dir, suffix: ".log"))")
        XCTAssertTrue(((try? String(contentsOf: masterLog, encoding: .utf8)) ?? "").contains("authentication on"))
    }

    // MARK: systemd and shellcheck

    func testSystemdUnitsVerify() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            throw XCTSkip("systemd-analyze is not installed")
        }
        let dir = try TestSupport.makeTemporaryDirectory("deploy-systemd")
        for unit in ["sextant-master.service", "sextant-executor.service"] {
            let text = try String(contentsOf: TestSupport.repoRoot.appendingPathComponent("conf/systemd/\(unit)"), encoding: .utf8)
            XCTAssertTrue(text.contains("Restart=on-failure"), unit)
            XCTAssertTrue(text.contains("LoadCredential=secret:/etc/sextant/secret"), unit)
            XCTAssertTrue(text.contains("sextant.authenticate.secretFile=%d/secret"), unit)
            // The binary's install path replaced by this build's, so verify can check it exists.
            let local = dir.appendingPathComponent(unit)
            try text.replacingOccurrences(of: "/opt/sextant/bin/sextant", with: Sextant.binary)
                .write(to: local, atomically: true, encoding: .utf8)
            let verify = try TestSupport.run("/usr/bin/systemd-analyze", ["verify", local.path])
            XCTAssertEqual(verify.status, 0, "\(unit): \(verify.stdout)\(verify.stderr)")
            XCTAssertFalse(verify.stderr.contains(unit), "\(unit): \(verify.stderr)")
        }
    }

    func testShellcheckPassesOnEveryDeploymentScript() throws {
        let shellcheck = try Scripts.installed("shellcheck", package: "shellcheck")
        let files = Scripts.owned.map { Scripts.path($0) }
        for file in files {
            XCTAssertTrue(FileManager.default.fileExists(atPath: file), "\(file) exists")
        }
        let out = try TestSupport.run(shellcheck, ["-x"] + files)
        XCTAssertEqual(out.status, 0, out.stdout + out.stderr)
    }

    // MARK: helpers

    private func clusterEnvironment(runDir: URL, executors: URL) -> [String: String] {
        ["SEXTANT_RUN_DIR": runDir.path, "SEXTANT_EXECUTORS_FILE": executors.path,
         "SEXTANT_BIN": Sextant.binary, "SEXTANT_MASTER_PORT": "\(ClusterHarness.freePort())",
         "SEXTANT_EXECUTOR_OPTS": "--conf sextant.executor.heartbeatInterval=0.5s --conf sextant.network.timeout=4s",
         "SEXTANT_STOP_TIMEOUT": "5"]
    }

    /// Runs a job on the cluster the environment describes, with its secret file, and checks it.
    private func runJob(frames count: Int, in dir: URL, env: [String: String]) throws {
        let frames = dir.appendingPathComponent("frames")
        try Sextant.generate("small", count: count, into: frames)
        let out = dir.appendingPathComponent("out")
        let secretFile = env["SEXTANT_RUN_DIR"]! + "/secret"
        let run = try Sextant.run(["run", frames.path, "--out", out.path,
                                   "--master", "sextant://127.0.0.1:\(env["SEXTANT_MASTER_PORT"]!)",
                                   "--conf", "sextant.authenticate.secretFile=\(secretFile)"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        let catalogs = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".cat.fits") }
        XCTAssertEqual(catalogs.count, count)
    }
}

/// The scripts under scripts/, and what the tests look at around them.
enum Scripts {
    /// Every shell script the deployment owns (shellcheck runs over all of them).
    static let owned = ["start-cluster", "stop-cluster", "sextant-daemon", "lib/sextant-env.sh", "release",
                        "slurm/sextant.sbatch", "slurm/local-slurm", "ec2/launch", "ec2/teardown", "ec2/common.sh",
                        "ec2/user-data.sh"]

    static func path(_ name: String) -> String {
        TestSupport.repoRoot.appendingPathComponent("scripts/\(name)").path
    }

    /// Runs a script, killed after `timeout` seconds so that a hung script fails the test
    /// instead of holding up the suite.
    static func run(_ name: String, _ arguments: [String] = [], environment: [String: String] = [:],
                    timeout: Int = 120) throws -> TestSupport.ProcessOutput {
        try TestSupport.run("/usr/bin/timeout", ["--kill-after=5", "\(timeout)", path(name)] + arguments,
                            environment: environment)
    }

    /// NAME -> pid for the pid files in `directory`.
    static func pids(in directory: URL) throws -> [String: Int32] {
        var pids: [String: Int32] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".pid") {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            pids[name] = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return pids
    }

    /// Command lines of live processes that mention `text` (our run directories are unique).
    static func commandLines(containing text: String) -> [String] {
        let own = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> String? in
            guard let pid = Int32(entry), pid != own,
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !data.isEmpty else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return line.contains(text) ? "\(pid): \(line)" : nil
        }
    }

    static func permissions(_ url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    static func writeExecutable(_ url: URL, _ text: String) throws -> URL {
        try text.write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url
    }

    /// The text of every file in `directory` whose name ends with `suffix`.
    static func read(_ directory: URL, suffix: String) -> String {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(suffix) }
        return names.sorted().compactMap {
            try? String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)
        }.joined(separator: "\n")
    }

    static func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    /// The path of `program`, installing its Debian package when missing; skips the test when
    /// that is not possible.
    static func installed(_ program: String, package: String, directory: String = "/usr/bin") throws -> String {
        let path = "\(directory)/\(program)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
        let install = try TestSupport.run("/bin/sh", ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \(package)"])
        guard install.status == 0, FileManager.default.isExecutableFile(atPath: path) else {
            throw XCTSkip("\(program) is not installed and apt-get could not install \(package): \(install.stderr)")
        }
        return path
    }
}

/// A systemd unit's ExecStart, expanded as systemd does, to run it without systemd.
struct SystemdUnit {
    let text: String

    init(_ url: URL) throws { text = try String(contentsOf: url, encoding: .utf8) }

    /// ExecStart's words with Environment= and EnvironmentFile= variables substituted, `%d` (the
    /// credentials directory) as ROOT/etc/sextant, and absolute install paths moved under `root`.
    func commandLine(root: URL) throws -> [String] {
        let lines = text.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n").map(String.init)
        var variables: [String: String] = [:]
        for line in lines where line.hasPrefix("Environment=") {
            for pair in line.dropFirst("Environment=".count).split(separator: " ") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                variables[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
        }
        for line in lines where line.hasPrefix("EnvironmentFile=") {
            let path = root.path + line.dropFirst("EnvironmentFile=".count).drop { $0 == "-" }
            for entry in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            where !entry.hasPrefix("#") && entry.contains("=") {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                variables[parts[0]] = parts.count > 1 ? parts[1] : ""
            }
        }
        guard let exec = lines.first(where: { $0.hasPrefix("ExecStart=") }) else { return [] }
        var words: [String] = []
        for word in exec.dropFirst("ExecStart=".count).split(separator: " ").map(String.init) {
            if word.hasPrefix("$"), !word.hasPrefix("${") {
                // An unbraced $VAR alone is split into words, and vanishes when empty.
                words += (variables[String(word.dropFirst())] ?? "").split(separator: " ").map(String.init)
                continue
            }
            var expanded = word
            for (name, value) in variables { expanded = expanded.replacingOccurrences(of: "${\(name)}", with: value) }
            expanded = expanded.replacingOccurrences(of: "%d", with: root.path + "/etc/sextant")
            for path in ["/opt/sextant", "/var/lib/sextant", "/var/cache/sextant"] where expanded.hasPrefix(path) {
                expanded = root.path + expanded
            }
            words.append(expanded)
        }
        return words
    }
}

/// An sshd of the test's own on 127.0.0.1: its own host key, a client key authorized for this
/// user, a free port, and an ssh config that maps the test's host names to it.
final class LocalSshd {
    let directory: URL
    let port = ClusterHarness.freePort()

    init(directory: URL) throws { self.directory = directory }

    var clientConfig: URL { directory.appendingPathComponent("ssh_config") }
    var log: String { (try? String(contentsOf: directory.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? "" }

    func start() throws {
        let path = directory.path
        for key in ["host_key", "client_key"] {
            let made = try TestSupport.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", "\(path)/\(key)"])
            guard made.status == 0 else { throw TestSupportError.commandFailed("ssh-keygen: \(made.stderr)") }
        }
        try FileManager.default.copyItem(atPath: "\(path)/client_key.pub", toPath: "\(path)/authorized_keys")
        // sshd's privilege separation directory.
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        try """
            ListenAddress 127.0.0.1
            Port \(port)
            HostKey \(path)/host_key
            AuthorizedKeysFile \(path)/authorized_keys
            PidFile \(path)/sshd.pid
            StrictModes no
            UsePAM no
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            LogLevel INFO
            """.write(to: directory.appendingPathComponent("sshd_config"), atomically: true, encoding: .utf8)
        try """
            Host node-a node-b
              HostName 127.0.0.1
              Port \(port)
              User \(NSUserName())
              IdentityFile \(path)/client_key
              IdentitiesOnly yes
              UserKnownHostsFile \(path)/known_hosts
              StrictHostKeyChecking accept-new
            """.write(to: clientConfig, atomically: true, encoding: .utf8)
        // sshd daemonizes itself, from a shell that first closes every descriptor above 2:
        // Foundation's Process learns that its child ended when the child's copy of a status
        // socket closes, and a daemon holding it would keep the test waiting.
        let launched = try TestSupport.run("/bin/bash", ["-c", """
            for fd in /proc/$$/fd/*; do fd=${fd##*/}; if ((fd > 2)); then eval "exec $fd>&-"; fi; done
            exec /usr/sbin/sshd -f \(path)/sshd_config -E \(path)/sshd.log
            """])
        guard launched.status == 0, Scripts.waitUntil(timeout: 10, { self.log.contains("Server listening") }) else {
            throw TestSupportError.commandFailed("sshd did not start: \(launched.stderr) \(log)")
        }
    }

    func stop() {
        guard let text = try? String(contentsOf: directory.appendingPathComponent("sshd.pid"), encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return }
        kill(pid, SIGTERM)
        _ = Scripts.waitUntil(timeout: 5) { kill(pid, 0) != 0 }
    }
}
