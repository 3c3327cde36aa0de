import ArgumentParser
import Foundation
import Pipeline

extension DatasetsCommand {
    /// `sextant datasets sky-field`: overlapping frames with a WCS over one truth sky.
    struct SkyFieldCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sky-field",
            abstract: "Generate overlapping frames with a TAN WCS over one truth sky (for sextant merge), and truth.csv.")
        @Option(name: .shortAndLong, help: "Directory the frames and truth.csv go to.")
        var out: String
        @Option(help: "Pointings, COLUMNSxROWS (default 2x2).")
        var grid: String = "2x2"
        @Option(help: "Fraction of a frame's side neighbours share (default 0.3).")
        var overlap: Double = 0.3
        @Option(help: "Frame width and height in pixels (default 400).")
        var size: Int = 400
        @Option(help: "Stars in the whole field (default 400).")
        var stars: Int = 400
        @Option(help: "Seed (default 1).")
        var seed: UInt64 = 1

        func run() throws {
            let parts = grid.lowercased().split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 >= 1 }), (0..<1).contains(overlap), size >= 16 else {
                throw ValidationError("--grid is COLUMNSxROWS (e.g. 3x2), --overlap in [0, 1), --size at least 16")
            }
            var recipe = SkyFieldRecipe()
            (recipe.columns, recipe.rows) = (parts[0], parts[1])
            (recipe.overlap, recipe.width, recipe.height, recipe.stars, recipe.seed) = (overlap, size, size, stars, seed)
            let field = SkyField(recipe)
            let paths = try field.write(into: out)
            var truth = "RA,DEC,FLUX\n"
            for star in field.truth { truth += String(format: "%.10f,%.10f,%.1f\n", star.ra, star.dec, star.flux) }
            try Data(truth.utf8).write(to: URL(fileURLWithPath: out).appendingPathComponent("truth.csv"))
            print("\(paths.count) frames, \(field.truth.count) truth stars in \(out)")
        }
    }
}
