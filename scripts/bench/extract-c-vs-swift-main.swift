// Times Sextant's Extraction wrapper on a raw float32 image; compiled together with
// Sources/Extraction/*.swift by scripts/bench/extract-c-vs-swift (swiftc -O).
// usage: extract-swift PIXELS.f32 WIDTH HEIGHT ITERATIONS
// Prints one line per iteration: "<wall seconds> <thread CPU seconds> <objects> <sum of FLUX_AUTO>".
import Foundation

@main
struct ExtractBench {
    static func now(_ clock: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    static func main() throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 5, let width = Int(arguments[2]), let height = Int(arguments[3]),
              let iterations = Int(arguments[4]) else {
            FileHandle.standardError.write("usage: extract-swift PIXELS.f32 WIDTH HEIGHT ITERATIONS\n".data(using: .utf8)!)
            exit(2)
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: arguments[1]))
        let pixels = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let image = try SkyImage(width: width, height: height, pixels: pixels, label: arguments[1])
        let extractor = try Extractor()
        for _ in 0..<iterations {
            let wall = now(CLOCK_MONOTONIC), cpu = now(CLOCK_THREAD_CPUTIME_ID)
            let catalog = try extractor.extract(image)
            let wallSeconds = now(CLOCK_MONOTONIC) - wall, cpuSeconds = now(CLOCK_THREAD_CPUTIME_ID) - cpu
            let total = catalog.sources.reduce(0.0) { $0 + $1.photometry.auto.sum }
            print(String(format: "%.6f %.6f %d %.17g", wallSeconds, cpuSeconds, catalog.count, total))
        }
    }
}
