import Foundation

/// A generated frame for SExtractor's flags, weights and check images: stars on a sky whose
/// noise follows a weight map with a gradient across x and a dead stripe (weight 0), three
/// stars clipped flat at `saturation` (the SATURATE keyword), two close pairs that deblend,
/// stars cut by the image border, and a flag map with two flagged boxes over stars.
public struct FlagFrame: Sendable {
    public let width: Int
    public let height: Int
    public let pixels: [Float]
    /// Relative weights (1/variance, up to a scale); 0 on the dead stripe.
    public let weights: [Float]
    public let flags: [Int16]
    /// The SATURATE keyword: a little below where the pixels are clipped, as cameras set it.
    public let saturation: Float
    /// The dead columns.
    public let stripe: Range<Int>
    /// The centres of the saturated stars (0-based).
    public let saturatedStars: [(x: Double, y: Double)]

    public init(width: Int = 512, height: Int = 512, stars count: Int = 110, seed: UInt64 = 15) {
        self.width = width
        self.height = height
        var state = seed
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
        func gaussian() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
        let stripe = 150..<154
        let clip: Float = 30000
        var weights = [Float](repeating: 0, count: width * height)
        var pixels = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let weight = stripe.contains(x) ? 0 : Float(0.5 + 1.5 * Double(x) / Double(width))
                weights[y * width + x] = weight
                let sigma = 10 / Double(max(weight, 0.5)).squareRoot()
                pixels[y * width + x] = Float(1000 + sigma * gaussian())
            }
        }
        var stars: [(Double, Double, Double)] = []
        for _ in 0..<count {
            stars.append((12 + uniform() * Double(width - 24), 12 + uniform() * Double(height - 24), 3000 + 30000 * uniform()))
        }
        stars += [(60, 200, 40000), (61.5 + 5, 203, 25000)]      // a pair that deblends
        stars += [(200, 60, 30000), (206, 57, 30000)]             // another
        stars += [(1.5, 120, 20000), (Double(width) - 2, 30, 20000)]  // cut by the border
        let saturated = [(40.0, 40.0), (120.0, 220.0), (220.0, 160.0)]
        stars += saturated.map { ($0.0, $0.1, 2_000_000) }
        for (cx, cy, flux) in stars {
            for y in max(0, Int(cy) - 12)...min(height - 1, Int(cy) + 12) {
                for x in max(0, Int(cx) - 12)...min(width - 1, Int(cx) + 12) {
                    let r2 = (Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)
                    pixels[y * width + x] += Float(flux / (2 * .pi * 2.56) * exp(-r2 / (2 * 2.56)))
                }
            }
        }
        for index in pixels.indices where pixels[index] > clip { pixels[index] = clip }
        var flags = [Int16](repeating: 0, count: width * height)
        for y in 30..<50 { for x in 30..<50 { flags[y * width + x] = 1 } }       // over a saturated star
        for y in 190..<210 { for x in 55..<75 { flags[y * width + x] = 4 } }     // over the first pair
        for y in 200..<206 { for x in 55..<61 { flags[y * width + x] |= 2 } }
        self.pixels = pixels
        self.weights = weights
        self.flags = flags
        self.saturation = 0.99 * clip
        self.stripe = stripe
        self.saturatedStars = saturated.map { (x: $0.0, y: $0.1) }
    }
}
