import Foundation

/// A small, fast, seedable generator (SplitMix64) so a recipe gives the same frame
/// on every machine and every run; Swift's SystemRandomNumberGenerator cannot be seeded.
struct RandomSource: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
    }

    /// Standard normal deviate (Box-Muller; one of the pair is dropped for simplicity).
    mutating func gaussian() -> Double {
        var u = uniform()
        while u <= .leastNonzeroMagnitude { u = uniform() }
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * uniform())
    }

    /// A Poisson deviate: exact (Knuth) for small means, normal approximation above 30.
    mutating func poisson(_ mean: Double) -> Double {
        guard mean > 0 else { return 0 }
        if mean > 30 { return max(0, (mean + mean.squareRoot() * gaussian()).rounded()) }
        let limit = exp(-mean)
        var k = 0.0, p = uniform()
        while p > limit { k += 1; p *= uniform() }
        return k
    }

    /// A power-law deviate in [lo, hi] with dN/dx ∝ x^slope (for star and galaxy fluxes).
    mutating func powerLaw(slope: Double, lo: Double, hi: Double) -> Double {
        let a = slope + 1
        let u = uniform()
        return pow(pow(lo, a) + u * (pow(hi, a) - pow(lo, a)), 1 / a)
    }
}
