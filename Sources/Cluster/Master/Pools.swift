import Engine
import Foundation

/// A pool of the master's fair scheduler (Spark's fairscheduler.xml pools, in one conf value):
/// pools share the executors' slots by `weight`, each first getting up to `minShare` slots
/// while it has work; within a pool, jobs run FIFO (the earliest submitted takes every free
/// slot it can use) or share FAIR.
public struct PoolDefinition: Sendable, Equatable {
    public enum Mode: String, Sendable {
        case fifo, fair
    }

    public var name: String
    public var weight: Double
    public var minShare: Int
    public var mode: Mode

    public init(name: String, weight: Double = 1, minShare: Int = 0, mode: Mode = .fifo) {
        self.name = name
        self.weight = weight
        self.minShare = minShare
        self.mode = mode
    }

    /// The pool of jobs that name none: its jobs share fairly, so a small job submitted while a
    /// large one runs starts at once (its own pool's setting, when `sextant.master.pools` names it).
    public static let defaultName = "default"
    public static let defaultPool = PoolDefinition(name: defaultName, mode: .fair)

    /// Parses `sextant.master.pools`: comma-separated pools, each `NAME[:weight=W][:minShare=N][:mode=fifo|fair]`,
    /// e.g. `streaming:weight=2:minShare=4,batch:mode=fifo`. A pool a job names that is not
    /// listed gets weight 1, minShare 0, FIFO (as in Spark).
    public static func parse(_ text: String) throws -> [PoolDefinition] {
        var pools: [PoolDefinition] = []
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let fields = entry.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = fields.first, isValidName(name) else {
                throw PoolError.bad(entry, "a pool needs a name of letters, digits, '.', '_' or '-'")
            }
            var pool = name == defaultName ? defaultPool : PoolDefinition(name: name)
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2 else { throw PoolError.bad(entry, "'\(field)' is not KEY=VALUE") }
                switch pair[0] {
                case "weight":
                    guard let weight = Double(pair[1]), weight > 0, weight.isFinite else {
                        throw PoolError.bad(entry, "weight must be a positive number")
                    }
                    pool.weight = weight
                case "minShare":
                    guard let share = Int(pair[1]), share >= 0 else { throw PoolError.bad(entry, "minShare must be 0 or more") }
                    pool.minShare = share
                case "mode":
                    guard let mode = Mode(rawValue: pair[1].lowercased()) else {
                        throw PoolError.bad(entry, "mode must be fifo or fair")
                    }
                    pool.mode = mode
                default:
                    throw PoolError.bad(entry, "unknown pool attribute '\(pair[0])' (weight, minShare, mode)")
                }
            }
            guard !pools.contains(where: { $0.name == pool.name }) else { throw PoolError.bad(entry, "pool listed twice") }
            pools.append(pool)
        }
        return pools
    }

    public static func isValidName(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        return !name.isEmpty && name.count <= 128 && name.allSatisfy(allowed.contains)
    }
}

public enum PoolError: Error, CustomStringConvertible, Equatable {
    case bad(String, String)

    public var description: String {
        switch self {
        case .bad(let entry, let reason): return "sextant.master.pools: '\(entry)': \(reason)"
        }
    }
}

/// Spark's FairSchedulingAlgorithm over pools (and over the jobs of a FAIR pool): a schedulable
/// below its minimum share comes first, the neediest by running / minShare; then the one with
/// the fewest running tasks per unit of weight; ties by `order` (submission), so FIFO is the tie rule.
struct FairShare {
    var running: Int
    var minShare: Int
    var weight: Double
    var order: Int

    static func precedes(_ a: FairShare, _ b: FairShare) -> Bool {
        let needyA = a.running < a.minShare, needyB = b.running < b.minShare
        if needyA != needyB { return needyA }
        if needyA {
            let ratioA = Double(a.running) / Double(max(a.minShare, 1))
            let ratioB = Double(b.running) / Double(max(b.minShare, 1))
            if ratioA != ratioB { return ratioA < ratioB }
        } else {
            let ratioA = Double(a.running) / a.weight, ratioB = Double(b.running) / b.weight
            if ratioA != ratioB { return ratioA < ratioB }
        }
        return a.order < b.order
    }
}
