import CSEP

/// What `sep_extract` found: its objects, the image pixels each one owns, and what had to give.
struct DetectionResult {
    var objects: [SEPObject]
    var pixels: ObjectPixels
    /// SExtractor flag bits every object carries (64 when deblending had to be skipped).
    var sharedFlags = 0
    /// What the catalog header should say about it (empty when nothing gave).
    var notes: [String] = []
}

/// `sep_extract` on a background-subtracted image, with the single retry on a full
/// pixel stack or a deblending overflow (see `SEPLibrary` for why the retry is exclusive).
///
/// Where the retry is not enough SExtractor flags the objects and goes on, and so does this:
/// a deblending overflow is extracted again without deblending (every object then carries
/// flag 64, DEBLEND_OVERFLOW), a full pixel stack again with a stack of one entry per pixel
/// of the image, which cannot overflow (nothing is lost, so no object needs flag 128).
enum Detection {
    static func run(data: [Float], image: SkyImage, noise: NoiseInput,
                    parameters: ExtractionParameters, library: SEPLibrary) throws -> DetectionResult {
        do {
            return try library.call { try extractOnce(data: data, image: image, noise: noise, parameters: parameters) }
        } catch ExtractionError.sep(let error) where isOverflow(error) {
            do {
                return try library.withRaisedLimits(pixelStack: error.status == SEPError.pixstackFull,
                                                    subObjectLimit: error.status == SEPError.deblendOverflow) {
                    try extractOnce(data: data, image: image, noise: noise, parameters: parameters)
                }
            } catch ExtractionError.sep(let again) where isOverflow(again) {
                return try goOn(after: again, data: data, image: image, noise: noise, parameters: parameters,
                                library: library)
            }
        }
    }

    private static func isOverflow(_ error: SEPError) -> Bool {
        error.status == SEPError.pixstackFull || error.status == SEPError.deblendOverflow
    }

    private static func goOn(after error: SEPError, data: [Float], image: SkyImage, noise: NoiseInput,
                             parameters: ExtractionParameters, library: SEPLibrary) throws -> DetectionResult {
        if error.status == SEPError.deblendOverflow {
            var plain = parameters
            plain.deblendThresholds = 1
            var result = try library.call { try extractOnce(data: data, image: image, noise: noise, parameters: plain) }
            result.sharedFlags = SExtractorFlags.deblendOverflow
            result.notes = ["deblending overflowed the sub-object limit even after the retry: extracted without deblending, every object has FLAGS 64"]
            return result
        }
        let pixels = image.width * image.height
        var result = try library.withPixelStack(pixels) {
            try extractOnce(data: data, image: image, noise: noise, parameters: parameters)
        }
        result.notes = ["the pixel stack overflowed even after the retry: extracted with a stack of \(pixels) pixels (nothing lost)"]
        return result
    }

    private static func extractOnce(data: [Float], image: SkyImage, noise: NoiseInput,
                                    parameters: ExtractionParameters) throws -> DetectionResult {
        let kernel = parameters.filter
        let thresholdType = parameters.thresholdKind == .relative ? SEP_THRESH_REL : SEP_THRESH_ABS
        let filterType = parameters.filterType == .matched ? SEP_FILTER_MATCHED : SEP_FILTER_CONV
        var catalog: UnsafeMutablePointer<sep_catalog>?
        let status = withSEPImage(data: data, width: image.width, height: image.height, noise: noise,
                                  mask: image.mask, gain: parameters.gain) { sepImage in
            withKernelPointer(kernel) { kernelPointer in
                sep_extract(&sepImage, Float(parameters.threshold), Int32(thresholdType),
                            Int32(clamping: parameters.minimumArea), kernelPointer,
                            Int32(kernel?.width ?? 0), Int32(kernel?.height ?? 0), Int32(filterType),
                            Int32(clamping: parameters.deblendThresholds), parameters.deblendContrast,
                            parameters.clean ? 1 : 0, parameters.cleanParameter, &catalog)
            }
        }
        defer { if let catalog { sep_catalog_free(catalog) } }
        try check(status, "\(image.label): sep_extract")
        guard let catalog else { return DetectionResult(objects: [], pixels: ObjectPixels(starts: [0], indices: [])) }
        return DetectionResult(objects: SEPObject.objects(in: catalog.pointee), pixels: ObjectPixels(catalog.pointee))
    }

    private static func withKernelPointer<T>(_ kernel: FilterKernel?,
                                             _ body: (UnsafePointer<Float>?) -> T) -> T {
        guard let kernel else { return body(nil) }
        return kernel.weights.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

/// The image pixels (row-major indices) each object owns after deblending: object i's are
/// `indices[starts[i] ..< starts[i+1]]`. SExtractor's isophotal pixels, for the segmentation
/// map, IMAFLAGS_ISO and the OBJECTS check images.
struct ObjectPixels {
    var starts: [Int]
    var indices: [Int32]

    init(starts: [Int], indices: [Int32]) {
        self.starts = starts
        self.indices = indices
    }

    init(_ catalog: sep_catalog) {
        let count = Int(catalog.nobj)
        var starts = [0]
        starts.reserveCapacity(count + 1)
        var total = 0
        for i in 0..<count {
            total += Int(catalog.npix[i])
            starts.append(total)
        }
        var indices = [Int32]()
        indices.reserveCapacity(total)
        for i in 0..<count {
            guard let pixels = catalog.pix[i] else { continue }
            for k in 0..<Int(catalog.npix[i]) { indices.append(Int32(pixels[k])) }
        }
        self.starts = starts
        self.indices = indices
    }

    func of(_ object: Int) -> ArraySlice<Int32> { indices[starts[object]..<starts[object + 1]] }

    /// SEGMENTATION: each pixel holds the NUMBER (index + 1) of the object owning it, 0 for none.
    func segmentation(pixelCount: Int) -> [Int32] {
        var map = [Int32](repeating: 0, count: pixelCount)
        for object in 0..<(starts.count - 1) {
            for index in of(object) { map[Int(index)] = Int32(object + 1) }
        }
        return map
    }

    /// Which detection each object was deblended from: objects whose pixels touch (8-connected)
    /// came from one detection, as deblending splits a connected region. `groups[i]` is the same
    /// for siblings and differs otherwise. Only deblended objects (`deblended(i)`: SEP_OBJ_MERGED,
    /// which SEP sets on every piece of a split detection) can touch another, so only pairs with
    /// a deblended side join: an undeblended object's detection was a region of its own.
    func detectionGroups(segmentation: SparseSegmentation, deblended: (Int) -> Bool) -> [Int] {
        var parent = Array(0..<(starts.count - 1))
        func root(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        segmentation.forEachTouchingPair { first, second in
            let a = Int(first) - 1, b = Int(second) - 1
            guard deblended(a) || deblended(b) else { return }
            let ra = root(a), rb = root(b)
            if ra != rb { parent[ra] = rb }
        }
        return parent.indices.map(root)
    }
}

