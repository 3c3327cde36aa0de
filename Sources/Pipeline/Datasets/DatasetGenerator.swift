import Engine
import FITS
import Foundation

/// Writes the frames of a synthetic dataset: frame i is `NAME-iiiiii.fits`, rendered from
/// the recipe with seed `recipe.seed + i`, so any subset can be made again on any machine.
public enum DatasetGenerator {
    /// Writes frames `range` of `dataset` into `directory` on `threads` threads; returns the paths.
    @discardableResult
    public static func generate(_ name: String, count: Int, recipe: FrameRecipe, dtype: PixelType,
                                into directory: String, range: Range<Int>? = nil,
                                threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let indices = Array(range ?? 0..<count)
        let paths = Locked([String](repeating: "", count: indices.count))
        let firstError = Locked<Error?>(nil)
        DispatchQueue.concurrentPerform(iterations: indices.count) { slot in
            let index = indices[slot]
            let path = directory + "/" + fileName(name, index: index)
            do {
                var frameRecipe = recipe
                frameRecipe.seed = recipe.seed &+ UInt64(index)
                try writeFrame(frameRecipe, dtype: dtype, name: name, index: index, to: path)
                paths.mutate { $0[slot] = path }
            } catch {
                firstError.mutate { if $0 == nil { $0 = error } }
            }
        }
        _ = threads // concurrentPerform already uses one thread per core.
        if let error = firstError.value { throw error }
        return paths.value
    }

    public static func fileName(_ name: String, index: Int) -> String {
        "\(name)-" + String(format: "%06d", index) + ".fits"
    }

    /// One frame as a FITS file: float32, or int16 with BSCALE/BZERO (half the bytes, like raw data).
    public static func writeFrame(_ recipe: FrameRecipe, dtype: PixelType, name: String, index: Int,
                                  to path: String) throws {
        let pixels = SyntheticFrame.render(recipe)
        try frameWriter(pixels, recipe: recipe, dtype: dtype, name: name, index: index).write(to: path)
    }

    static func frameWriter(_ pixels: [Float], recipe: FrameRecipe, dtype: PixelType, name: String,
                            index: Int) -> FITSImageWriter {
        let keywords: [FITSCard] = [
            .string("OBJECT", "\(name) frame \(index)", comment: "Sextant synthetic frame"),
            .double("EXPTIME", 53.9, comment: "exposure time [s] (SDSS drift scan)"),
            .double("GAIN", 4.7, comment: "[e-/count]"),
            .double("RDNOISE", recipe.readNoise, comment: "read noise [count]"),
            .double("SKYLEVEL", recipe.sky, comment: "sky at the frame centre [count]"),
            .int("SYNSEED", Int(truncatingIfNeeded: recipe.seed), comment: "recipe seed"),
            .int("SYNSTARS", recipe.stars, comment: "stars painted"),
            .int("SYNGALS", recipe.galaxies, comment: "galaxies painted"),
        ]
        switch dtype {
        case .float32:
            return FITSImageWriter(width: recipe.width, height: recipe.height, pixels: .float32(pixels), keywords: keywords)
        case .int16:
            // Counts run from about -50 to the 60000 saturation level: BZERO 32768 fits them in 16 bits.
            let stored = pixels.map { Int16(clamping: Int(($0 - 32768).rounded())) }
            return FITSImageWriter(width: recipe.width, height: recipe.height,
                                   pixels: .int16(stored, bscale: 1, bzero: 32768), keywords: keywords)
        }
    }
}
