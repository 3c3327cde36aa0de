import Foundation

/// The Engine's own configuration keys, read once into typed fields.
public struct EngineSettings: Sendable, Equatable {
    /// Attempts a partition may fail before it is reported failed.
    public var maxFailures = 4
    /// Launch copies of stragglers.
    public var speculation = false
    /// Fraction of a job's partitions that must have succeeded before speculation starts.
    public var speculationQuantile = 0.75
    /// A running attempt is a straggler when it has run this many times the median success time.
    public var speculationMultiplier = 1.5
    /// Never speculate an attempt younger than this.
    public var speculationMinRuntime: TimeInterval = 0.1
    /// How often the scheduler looks for stragglers and expired exclusions.
    public var speculationInterval: TimeInterval = 0.1
    /// Exclude executors that keep failing tasks.
    public var excludeOnFailure = false
    /// Failures on one executor, with no success in between, that exclude it.
    public var excludeThreshold = 2
    /// How long an excluded executor gets no tasks.
    public var excludeTimeout: TimeInterval = 3600
    /// Stop the job at the first partition that exhausts its attempts.
    public var failFast = false
    /// Task slots of the local backend; nil means one per core.
    public var localSlots: Int?
    /// local[N] runs its tasks in worker processes (true, the default), so a native crash in one
    /// task loses only that task's worker; false runs them on threads of the driver's process.
    public var localIsolation = true
    /// How long an input on one executor's own disk waits for that executor before another
    /// may take it (delay scheduling). Short, as Kira found: a long wait idles other executors.
    public var localityWait: TimeInterval = 0.1

    public init() {}

    public enum Key {
        public static let maxFailures = "sextant.task.maxFailures"
        public static let speculation = "sextant.speculation"
        public static let speculationQuantile = "sextant.speculation.quantile"
        public static let speculationMultiplier = "sextant.speculation.multiplier"
        public static let speculationMinRuntime = "sextant.speculation.minRuntime"
        public static let speculationInterval = "sextant.speculation.interval"
        public static let excludeOnFailure = "sextant.excludeOnFailure.enabled"
        public static let excludeThreshold = "sextant.excludeOnFailure.threshold"
        public static let excludeTimeout = "sextant.excludeOnFailure.timeout"
        public static let failFast = "sextant.job.failFast"
        public static let localSlots = "sextant.local.slots"
        public static let localIsolation = "sextant.local.isolation"
        public static let localityWait = "sextant.locality.wait"
    }

    /// Every key the Engine reads, for unknown-key detection.
    public static let knownKeys: Set<String> = [
        Key.maxFailures, Key.speculation, Key.speculationQuantile, Key.speculationMultiplier,
        Key.speculationMinRuntime, Key.speculationInterval, Key.excludeOnFailure, Key.excludeThreshold,
        Key.excludeTimeout, Key.failFast, Key.localSlots, Key.localityWait,
        Key.localIsolation,
    ]

    public init(_ configuration: Configuration) throws {
        let defaults = EngineSettings()
        maxFailures = try configuration.int(Key.maxFailures, default: defaults.maxFailures)
        speculation = try configuration.bool(Key.speculation, default: defaults.speculation)
        speculationQuantile = try configuration.double(Key.speculationQuantile, default: defaults.speculationQuantile)
        speculationMultiplier = try configuration.double(Key.speculationMultiplier,
                                                         default: defaults.speculationMultiplier)
        speculationMinRuntime = try configuration.duration(Key.speculationMinRuntime,
                                                           default: defaults.speculationMinRuntime)
        speculationInterval = try configuration.duration(Key.speculationInterval, default: defaults.speculationInterval)
        excludeOnFailure = try configuration.bool(Key.excludeOnFailure, default: defaults.excludeOnFailure)
        excludeThreshold = try configuration.int(Key.excludeThreshold, default: defaults.excludeThreshold)
        excludeTimeout = try configuration.duration(Key.excludeTimeout, default: defaults.excludeTimeout)
        failFast = try configuration.bool(Key.failFast, default: defaults.failFast)
        localityWait = try configuration.duration(Key.localityWait, default: defaults.localityWait)
        localIsolation = try configuration.bool(Key.localIsolation, default: defaults.localIsolation)
        if let slots = configuration[Key.localSlots], slots != "*" {
            localSlots = try configuration.int(Key.localSlots, default: 0)
        }
        try validate()
    }

    func validate() throws {
        func require(_ ok: Bool, _ key: String, _ value: Any, _ expected: String) throws {
            if !ok { throw ConfigurationError.badValue(key: key, value: "\(value)", expected: expected) }
        }
        try require(maxFailures >= 1, Key.maxFailures, maxFailures, "at least 1")
        try require((0...1).contains(speculationQuantile), Key.speculationQuantile, speculationQuantile,
                    "between 0 and 1")
        try require(speculationMultiplier >= 1, Key.speculationMultiplier, speculationMultiplier, "at least 1")
        try require(speculationInterval > 0, Key.speculationInterval, speculationInterval, "a positive duration")
        try require(localityWait >= 0, Key.localityWait, localityWait, "zero or a positive duration")
        try require(excludeThreshold >= 1, Key.excludeThreshold, excludeThreshold, "at least 1")
        try require((localSlots ?? 1) >= 1, Key.localSlots, localSlots ?? 0, "at least 1, or *")
    }
}
