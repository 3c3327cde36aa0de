import CSEP

/// `sep_extract` on a background-subtracted image, with the single retry on a full
/// pixel stack or a deblending overflow (see `SEPLibrary` for why the retry is exclusive).
enum Detection {
    static func run(data: [Float], image: SkyImage, noise: NoiseInput,
                    parameters: ExtractionParameters, library: SEPLibrary) throws -> [SEPObject] {
        do {
            return try library.call { try extractOnce(data: data, image: image, noise: noise, parameters: parameters) }
        } catch ExtractionError.sep(let error)
            where error.status == SEPError.pixstackFull || error.status == SEPError.deblendOverflow {
            return try library.withRaisedLimits(pixelStack: error.status == SEPError.pixstackFull,
                                                subObjectLimit: error.status == SEPError.deblendOverflow) {
                try extractOnce(data: data, image: image, noise: noise, parameters: parameters)
            }
        }
    }

    private static func extractOnce(data: [Float], image: SkyImage, noise: NoiseInput,
                                    parameters: ExtractionParameters) throws -> [SEPObject] {
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
        guard let catalog else { return [] }
        var objects = SEPObject.objects(in: catalog.pointee)
        measureFWHM(&objects, catalog: catalog.pointee, data: data, width: image.width)
        return objects
    }

    /// FWHM_IMAGE from each object's pixel list, which lives only as long as SEP's catalog.
    private static func measureFWHM(_ objects: inout [SEPObject], catalog: sep_catalog, data: [Float], width: Int) {
        guard let lists = catalog.pix else { return }
        data.withUnsafeBufferPointer { data in
            for index in objects.indices {
                guard let start = lists[index] else { continue }
                let pixels = UnsafeBufferPointer(start: start, count: Int(max(catalog.npix[index], 0)))
                objects[index].fwhm = FWHMEstimate.fwhm(of: objects[index], pixels: pixels, data: data, width: width)
            }
        }
    }

    private static func withKernelPointer<T>(_ kernel: FilterKernel?,
                                             _ body: (UnsafePointer<Float>?) -> T) -> T {
        guard let kernel else { return body(nil) }
        return kernel.weights.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
