import Foundation

/// The master's, executors' and clients' keys (read by Cluster): each daemon's own.
public enum ClusterKeys {
    public static let masterHost = Declare.string(
        "sextant.master.host", .cluster, .local, default: "0.0.0.0",
        doc: "address the master binds; `master --host`")
    public static let masterPort = Declare.int(
        "sextant.master.port", .cluster, .local, default: 7077, in: 0...65535,
        doc: "port the master binds (executors and clients alike); `master --port`")
    public static let historyDirectory = Declare.optionalString(
        "sextant.master.historyDir", .cluster, .local, shown: "`~/.sextant/master-PORT`",
        doc: "job records, one JSON file per job, so `status` survives a restart")
    public static let executorCores = Declare.optionalInt(
        "sextant.executor.cores", .cluster, .local, shown: "all processors",
        doc: "tasks an executor runs at once; `executor --cores`")
    public static let executorIsolation = Declare.bool(
        "sextant.executor.isolation", .cluster, .local, default: true,
        doc: "an executor runs each task in a worker process of its own (`sextant worker`, one per core, over pipes), so a native crash in SEP or CFITSIO loses that worker and fails only its attempt, never the daemon or its other tasks; `false` runs tasks on the daemon's threads")
    public static let executorLocalPaths = Declare.list(
        "sextant.executor.localPaths", .cluster, .local,
        doc: "comma-separated path prefixes on the executor's own disk (locality)")
    public static let heartbeatInterval = Declare.duration(
        "sextant.executor.heartbeatInterval", .cluster, .local, default: 3, shown: "`3s`",
        doc: "executor heartbeat period (the master's value wins if shorter)")
    public static let networkTimeout = Declare.duration(
        "sextant.network.timeout", .cluster, .local, default: 30, shown: "`30s`",
        doc: "silence after which the master declares an executor lost (and an executor gives up on its master and reconnects)")
    public static let maxFrameBytes = Declare.size(
        "sextant.network.maxFrameBytes", .cluster, .local, default: 16 << 20, in: 64...Int64(Int32.max), shown: "`16m`",
        doc: "largest message; a larger length prefix closes the connection (a too-large task or result fails that task)")
    public static let maxConnections = Declare.int(
        "sextant.network.maxConnections", .cluster, .local, default: 1024,
        doc: "connections the master accepts at once")
    public static let maxConnectionsPerAddress = Declare.int(
        "sextant.network.maxConnectionsPerAddress", .cluster, .local, default: 64,
        doc: "connections one remote address may hold at the master at once")
    public static let idleTimeout = Declare.duration(
        "sextant.network.idleTimeout", .cluster, .local, default: 300, shown: "`5min`",
        doc: "silence after which the master closes a client's connection (a client waiting on a job is not idle)")
    public static let allowedRoots = Declare.list(
        "sextant.executor.allowedRoots", .cluster, .process, shown: "none (everywhere, with a warning)",
        doc: "comma-separated directories and `s3://bucket/prefix`es that executors read and write, and under "
            + "which the master's driver writes manifests; `..` and symbolic links are resolved first")
    public static let handshakeTimeout = Declare.duration(
        "sextant.network.handshakeTimeout", .cluster, .local, default: 10, shown: "`10s`",
        doc: "time a new connection has to say hello and authenticate (its frames are capped at 4 KiB until then)")
    public static let drainTimeout = Declare.duration(
        "sextant.executor.drainTimeout", .cluster, .local, default: 25, shown: "`25s`",
        doc: "on SIGTERM (Slurm walltime or `scancel`, a spot notice) an executor takes no new task and finishes what it holds for at most this long, then leaves; what is left is rescheduled and never counted as a failure. Keep it under Slurm's KillWait (30 s)")
    public static let queuedTasksPerSlot = Declare.int(
        "sextant.executor.queuedTasksPerSlot", .cluster, .local, default: 8, in: 0...16,
        doc: "at most this many tasks an executor holds per core beyond those it runs, each started the moment a core frees (no round trip to the master, so launches and results go in larger frames); the scheduler fills it with `sextant.scheduler.queuedWork` of work per core (one task per core for tasks of 2 ms or more, the whole queue for tasks of microseconds); queued tasks count against their pool's share, and a draining executor hands them back unstarted (not failures); `0`: a task per core only")
    public static let resultWindow = Declare.duration(
        "sextant.executor.resultWindow", .cluster, .local, default: 0.0005, positive: false, shown: "`500us`",
        doc: "how long an executor holds a finished task's result for others to join it in one frame (sooner once it holds as many as it has cores and queued tasks); fewer, larger frames cost the master less per task; `0`: each result as soon as the connection can take it")
    public static let requestTimeout = Declare.duration(
        "sextant.network.requestTimeout", .cluster, .local, default: 120, shown: "`120s`",
        doc: "time a client (`submit`, `status`, `cancel`) waits for the master to take a request and answer it; then it fails with a message naming this key")
    public static let maxJobBytes = Declare.size(
        "sextant.master.maxJobBytes", .cluster, .local, default: 1 << 30, in: 1024...Int64(Int32.max), shown: "`1g`",
        doc: "largest job a client may submit; a job larger than a frame travels in pieces of at most a frame each (a million inputs take about 150 MB)")
    public static let secretFile = Declare.optionalString(
        "sextant.authenticate.secretFile", .cluster, .local,
        doc: "file holding the cluster's secret (16+ bytes), or a role's credential from `sextant credential` "
            + "(or the `SEXTANT_AUTH_SECRET` environment variable); required when the master listens beyond loopback")
    public static let secret = Declare.optionalString(
        "sextant.authenticate.secret", .cluster, .local, secret: true,
        doc: "refused: a secret on a command line shows in `ps`; use `sextant.authenticate.secretFile` or `SEXTANT_AUTH_SECRET`")
    public static let pools = Declare.string(
        "sextant.master.pools", .cluster, .local, default: "",
        doc: "the master's fair-scheduler pools: comma-separated `NAME[:weight=W][:minShare=N][:mode=fifo|fair]`, e.g. `streaming:weight=2:minShare=4,batch:mode=fifo`; pools share slots by weight after each gets its minShare; the `default` pool (jobs naming none) is FAIR among its jobs, others FIFO unless `mode=fair`")
    public static let maxRunningJobs = Declare.int(
        "sextant.master.maxRunningJobs", .cluster, .local, default: 16, in: 1...1024,
        doc: "jobs the master runs at once (sharing the executors by pool); more wait as `queued`, FIFO")
    public static let usersFile = Declare.optionalString(
        "sextant.master.usersFile", .cluster, .local, shown: "`HISTORYDIR/users.list`",
        doc: "the users `sextant users add` issues tokens to (names, generations, roles and token hashes; never a key)")
    public static let uploadDirectory = Declare.optionalString(
        "sextant.master.uploadDir", .cluster, .local, shown: "`HISTORYDIR/uploads`",
        doc: "where the portal and REST API store FITS files uploaded with a job (`DIR/JOB/NAME`); executors read them there, so put it on shared storage under `sextant.executor.allowedRoots`")
    public static let webhook = Declare.optionalString(
        "sextant.master.webhook", .cluster, .local, secret: true,
        doc: "http(s) URL the master POSTs each ended job's record to (JSON: id, user, pool, status, outcome with its counts); from the master's conf file only (such URLs often hold a token: never logged)")

    public static let all = declarations(
        masterHost, masterPort, historyDirectory, executorCores, executorLocalPaths, heartbeatInterval,
        networkTimeout, maxFrameBytes, maxConnections, maxConnectionsPerAddress, idleTimeout, allowedRoots,
        handshakeTimeout, requestTimeout, maxJobBytes, drainTimeout, queuedTasksPerSlot, resultWindow, secretFile, secret, executorIsolation, pools,
        maxRunningJobs, usersFile, uploadDirectory, webhook)
}
