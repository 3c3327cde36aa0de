import Engine
import Foundation

// skystats [--frames N] [--conf key=value ...]
// Writes N synthetic frames (sky + noise + a few stars) as text, measures them on
// local[N] with the MeasureSky operator, and prints one line per frame.

var frameCount = 12
var confPairs: [String] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--frames":
        guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else {
            fatalError("--frames needs a positive number")
        }
        frameCount = value
    case "--conf":
        guard let pair = arguments.popFirst() else { fatalError("--conf needs key=value") }
        confPairs.append(pair)
    default:
        FileHandle.standardError.write(Data("usage: skystats [--frames N] [--conf key=value ...]\n".utf8))
        exit(2)
    }
}

do {
    let configuration = try Configuration.layered(confPairs: confPairs)
    for (key, suggestion) in configuration.unknownKeys(known: EngineSettings.knownKeys) {
        print("warning: unknown key \(key)" + (suggestion.map { " (did you mean \($0)?)" } ?? ""))
    }
    let settings = try EngineSettings(configuration)

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skystats-\(getpid())")
    let frames = try SyntheticSky.write(frames: frameCount, to: directory)
    defer { try? FileManager.default.removeItem(at: directory) }

    // Driver and executors register the same operators.
    let registry = OperatorRegistry()
    registry.register(MeasureSky.self)
    let context = EngineContext.local(registry: registry, settings: settings)
    defer { context.stop() }

    let stats = try context.dataset(frames.map(\.path))     // one frame per partition
        .map(MeasureSky.self, MeasureSky.Parameters())
    let result = stats.save()
    print("job \(result.jobID): \(result.status), \(String(format: "%.3f", result.duration)) s")
    print("file            pixels      sky    noise  bright  attempts")
    for (partition, measured) in zip(result.partitions, try result.records(as: SkyStatistics.self)) {
        print(String(format: "%@ %7d %8.2f %8.2f %7d %9d",
                     measured.file.padding(toLength: 14, withPad: " ", startingAt: 0),
                     measured.pixels, measured.skyLevel, measured.skyNoise, measured.brightPixels,
                     partition.attempts))
    }
    for failed in result.failedPartitions {
        print("partition \(failed.partition) failed: \(failed.failureReasons.joined(separator: "; "))")
    }
} catch {
    FileHandle.standardError.write(Data("skystats: \(error)\n".utf8))
    exit(1)
}
