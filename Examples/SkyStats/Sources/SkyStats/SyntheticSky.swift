import Foundation

/// Writes frames of a flat sky with Gaussian noise and a few Gaussian stars, as text.
enum SyntheticSky {
    static func write(frames: Int, to directory: URL, size: Int = 64) throws -> [URL] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var generator = SplitMix64(seed: 42)
        return try (0..<frames).map { index in
            let sky = 100 + Double(index) * 10
            let noise = 5.0
            var pixels = (0..<(size * size)).map { _ in sky + noise * generator.nextGaussian() }
            for _ in 0..<(1 + index % 4) {
                let cx = Double(generator.next() % UInt64(size)), cy = Double(generator.next() % UInt64(size))
                for y in 0..<size {
                    for x in 0..<size {
                        let r2 = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)
                        pixels[y * size + x] += 2000 * exp(-r2 / 4)
                    }
                }
            }
            let text = (0..<size).map { row in
                pixels[(row * size)..<((row + 1) * size)].map { String(format: "%.3f", $0) }.joined(separator: " ")
            }.joined(separator: "\n")
            let url = directory.appendingPathComponent(String(format: "frame-%03d.txt", index))
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url
        }
    }
}

/// A small deterministic generator, so runs are repeatable.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextGaussian() -> Double {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), .leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
