import Foundation

/// One row of a job's frame table as the monitor shows it: an image HDU of an input with what
/// the pipeline measured on it. The host maps its own rows to this (the monitor needs no pipeline types).
public struct FrameRecord: Codable, Sendable, Equatable {
    public var input: String
    public var hdu: Int
    public var extname: String?
    /// Observation time (MJD), when the header gives one.
    public var mjd: Double?
    public var background: Double
    public var rms: Double
    public var sources: Int
    public var fwhm: Double?
    public var depth: Double?
    public var depthMagnitude: Double?
    public var flagged: Double
    /// Centre and corners (alpha, delta pairs, degrees) on the sky, with a WCS.
    public var ra: Double?
    public var dec: Double?
    public var corners: [Double]?
    /// Header values, as text.
    public var keywords: [String: String]?

    public init(input: String, hdu: Int, extname: String? = nil, mjd: Double? = nil, background: Double, rms: Double,
                sources: Int, fwhm: Double? = nil, depth: Double? = nil, depthMagnitude: Double? = nil,
                flagged: Double = 0, ra: Double? = nil, dec: Double? = nil, corners: [Double]? = nil,
                keywords: [String: String]? = nil) {
        self.input = input
        self.hdu = hdu
        self.extname = extname
        self.mjd = mjd
        self.background = background
        self.rms = rms
        self.sources = sources
        self.fwhm = fwhm
        self.depth = depth
        self.depthMagnitude = depthMagnitude
        self.flagged = flagged
        self.ra = ra
        self.dec = dec
        self.corners = corners
        self.keywords = keywords
    }
}

/// `GET /api/v1/jobs/ID/frames`: the rows the monitor kept (at most `FrameList.limit` a job).
public struct FrameList: Codable, Sendable, Equatable {
    /// Rows kept per job: enough for a night's triage plots; the whole table is OUT/_frames.fits.
    public static let limit = 20_000

    public var job: String
    public var frames: [FrameRecord]
    /// Rows that arrived after the limit (in `_frames.fits` and `_frames.csv`, not here).
    public var dropped: Int
}
