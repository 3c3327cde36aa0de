import Engine
import Foundation

// One binary is the driver, the master and every executor, so all of them register the same
// operators (code does not travel between processes; operator names and parameters do).
//
//   skystats [local] [--frames N] [--dir DIR] [--conf key=value ...]     runs on local[N]
//   skystats master [--port P] [--host H]                                 a cluster master
//   skystats executor --master sextant://HOST:PORT [--cores N]            an executor
//   skystats submit --master sextant://HOST:PORT [--frames N] [--dir DIR] a job on the cluster
//
// Frames are written to DIR (default: a temporary directory), which every executor must be able
// to read under the same path (a shared file system; on one machine, any directory).

var arguments = Array(CommandLine.arguments.dropFirst())
let mode = arguments.first.map { $0.hasPrefix("--") ? "local" : arguments.removeFirst() } ?? "local"
do {
    let options = try Options(arguments)
    switch mode {
    case "local": try runLocally(options)
    case "master": try SkyCluster.runMaster(options)
    case "executor": try SkyCluster.runExecutor(options)
    case "submit": try SkyCluster.submit(options)
    default: throw SkyStatsError("unknown mode \(mode): local, master, executor or submit")
    }
} catch {
    FileHandle.standardError.write(Data("skystats: \(error)\n".utf8))
    exit(1)
}

/// Every process of this program registers the same operators: driver, master and executors.
func makeRegistry() -> OperatorRegistry {
    let registry = OperatorRegistry()
    registry.register(MeasureSky.self)
    return registry
}

func runLocally(_ options: Options) throws {
    let configuration = try Configuration.layered(confPairs: options.conf)
    for warning in configuration.unknownKeyWarnings() { print("warning: \(warning)") }
    let frames = try options.writeFrames()
    defer { options.removeFrames() }
    let context = EngineContext.local(registry: makeRegistry(), settings: try EngineSettings(configuration))
    defer { context.stop() }
    let result = try context.dataset(frames)       // one frame per partition
        .map(MeasureSky.self, MeasureSky.Parameters())
        .save()
    print("job \(result.jobID): \(result.status), \(String(format: "%.3f", result.duration)) s")
    printTable(try result.records(as: SkyStatistics.self))
    for failed in result.failedPartitions {
        print("partition \(failed.partition) failed: \(failed.failureReasons.joined(separator: "; "))")
    }
    if !result.failedPartitions.isEmpty { exit(1) }
}

func printTable(_ stats: [SkyStatistics]) {
    print("file            pixels      sky    noise  bright  executor")
    for measured in stats {
        print(String(format: "%@ %7d %8.2f %8.2f %7d  %@",
                     measured.file.padding(toLength: 14, withPad: " ", startingAt: 0),
                     measured.pixels, measured.skyLevel, measured.skyNoise, measured.brightPixels, measured.executor))
    }
}

/// The few flags the modes take.
struct Options {
    var frameCount = 12
    var directory: URL?
    var conf: [String] = []
    var master: String?
    var host = "127.0.0.1"
    var port = 7078
    var cores = ProcessInfo.processInfo.activeProcessorCount

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let value = rest.popFirst() else { throw SkyStatsError("\(flag) needs a value") }
            return value
        }
        func number(_ flag: String) throws -> Int {
            guard let number = Int(try value(flag)), number >= 0 else { throw SkyStatsError("\(flag) needs a number") }
            return number
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--frames": frameCount = max(1, try number(flag))
            case "--dir": directory = URL(fileURLWithPath: try value(flag))
            case "--conf": conf.append(try value(flag))
            case "--master": master = try value(flag)
            case "--host": host = try value(flag)
            case "--port": port = try number(flag)
            case "--cores": cores = max(1, try number(flag))
            default: throw SkyStatsError("unknown flag \(flag) (see the comment at the top of main.swift)")
            }
        }
    }

    private var frameDirectory: URL {
        directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("skystats-\(getpid())")
    }

    func writeFrames() throws -> [String] {
        try SyntheticSky.write(frames: frameCount, to: frameDirectory).map(\.path)
    }

    /// Only the temporary directory is ours to remove.
    func removeFrames() {
        if directory == nil { try? FileManager.default.removeItem(at: frameDirectory) }
    }
}
