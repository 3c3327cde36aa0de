import CSEP

/// The noise SEP sees: none, one standard deviation for the whole image, or a map of them.
enum NoiseInput {
    case none
    case scalar(Double)
    case map([Float])
}

/// Borrows the arrays' storage for the duration of `body` and describes it to SEP as a
/// `sep_image`: float32 data (SEP_TFLOAT), optional float32 standard-deviation noise,
/// optional byte mask (masked where > 0), no segmentation map. Nothing is copied.
func withSEPImage<T>(data: [Float], width: Int, height: Int, noise: NoiseInput,
                     mask: SkyImage.Mask?, gain: Double?,
                     _ body: (inout sep_image) throws -> T) rethrows -> T {
    try data.withUnsafeBufferPointer { dataBuffer in
        try withNoisePointer(noise) { noisePointer in
            try withMaskPointer(mask) { maskPointer in
                var image = sep_image()
                image.data = UnsafeRawPointer(dataBuffer.baseAddress)
                image.noise = noisePointer
                image.mask = maskPointer
                image.segmap = nil
                image.dtype = Int32(SEP_TFLOAT)
                image.ndtype = Int32(SEP_TFLOAT)
                image.mdtype = Int32(SEP_TBYTE)
                image.sdtype = Int32(SEP_TINT)
                image.w = Int32(width)
                image.h = Int32(height)
                switch noise {
                case .none:
                    image.noise_type = Int16(SEP_NOISE_NONE)
                    image.noiseval = 0
                case .scalar(let sigma):
                    image.noise_type = Int16(SEP_NOISE_STDDEV)
                    image.noiseval = sigma
                case .map:
                    image.noise_type = Int16(SEP_NOISE_STDDEV)
                    image.noiseval = 0
                }
                image.gain = gain ?? 0
                image.maskthresh = 0
                return try body(&image)
            }
        }
    }
}

private func withNoisePointer<T>(_ noise: NoiseInput,
                                 _ body: (UnsafeRawPointer?) throws -> T) rethrows -> T {
    if case .map(let values) = noise {
        return try values.withUnsafeBufferPointer { try body(UnsafeRawPointer($0.baseAddress)) }
    }
    return try body(nil)
}

private func withMaskPointer<T>(_ mask: SkyImage.Mask?,
                                _ body: (UnsafeRawPointer?) throws -> T) rethrows -> T {
    switch mask {
    case .none:
        return try body(nil)
    case .booleans(let flags):
        // Swift's Bool is one byte holding 0 or 1, which SEP reads as SEP_TBYTE.
        return try flags.withUnsafeBytes { try body($0.baseAddress) }
    case .bytes(let flags):
        return try flags.withUnsafeBytes { try body($0.baseAddress) }
    }
}

/// Throws the SEP error for a nonzero status, reading the detail on this thread.
@inline(__always)
func check(_ status: Int32, _ context: @autoclosure () -> String) throws {
    if status != 0 { throw ExtractionError.sep(SEPError(status: status, context: context())) }
}
