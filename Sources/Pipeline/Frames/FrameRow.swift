import Foundation

/// What the frame table says of one image HDU, measured where it was extracted and carried back
/// in its input's manifest entry (`ManifestEntry.frames`): a few numbers, so 10^6 inputs stay small.
public struct FrameRow: Codable, Equatable, Sendable {
    /// 0 = primary.
    public var hdu: Int
    public var extname: String?
    /// SEP's global background level and rms (counts).
    public var background: Double
    public var rms: Double
    public var sources: Int
    /// Median FWHM_IMAGE (pixels) of the unflagged point-like sources; nil when there are none.
    public var fwhm: Double?
    /// The flux (counts) of a point source detected at 5 sigma in the first aperture.
    public var depth: Double
    /// The zero point in force (header keyword, flag, .sex or conf), when one is: then the depth
    /// is also a magnitude, `depthMagnitude`.
    public var zeroPoint: Double?
    /// The frame's centre (equatorial J2000, degrees) and its four corners (alpha, delta pairs),
    /// when the HDU has a celestial WCS.
    public var ra: Double?
    public var dec: Double?
    public var corners: [Double]?
    /// The fraction of sources with FLAGS != 0 (SExtractor's flags, as the catalog's FLAGS column).
    public var flagged: Double
    /// The time of the exposure as an MJD, from MJD-OBS or DATE-OBS, for plots against time.
    public var mjd: Double?
    /// The header values of `sextant.frames.keywords` that the HDU (or its primary header) has.
    public var keywords: [String: FrameValue]?

    public var hasWCS: Bool { ra != nil && dec != nil }

    /// `zeroPoint - 2.5 log10(depth)`, nil without a zero point.
    public var depthMagnitude: Double? {
        guard let zeroPoint, depth > 0, depth.isFinite else { return nil }
        return zeroPoint - 2.5 * log10(depth)
    }

    public init(hdu: Int, extname: String?, background: Double, rms: Double, sources: Int, fwhm: Double?,
                depth: Double, zeroPoint: Double?, flagged: Double) {
        self.hdu = hdu
        self.extname = extname
        self.background = background
        self.rms = rms
        self.sources = sources
        self.fwhm = fwhm
        self.depth = depth
        self.zeroPoint = zeroPoint
        self.flagged = flagged
    }
}

/// A header value as the frame table keeps it: a number or text (logicals as T or F).
public enum FrameValue: Codable, Equatable, Sendable, CustomStringConvertible {
    case number(Double)
    case text(String)

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) { self = .number(number) } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let number): try container.encode(number)
        case .text(let text): try container.encode(text)
        }
    }

    public var description: String {
        switch self {
        case .number(let number): return number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : "\(number)"
        case .text(let text): return text
        }
    }

    public var number: Double? {
        if case .number(let number) = self { return number }
        return nil
    }
}

extension FrameRow {
    /// At most this many HDUs an input and header values a row (mosaics have up to a few hundred).
    static let maxFrames = 4096
    static let maxKeywords = 64

    /// What an executor may send: a bounded list of rows with bounded keyword values.
    static func areSane(_ rows: [FrameRow]) -> Bool {
        rows.count <= maxFrames && rows.allSatisfy { row in
            (0...100_000).contains(row.hdu) && (0...RecordValidation.maxRows).contains(row.sources)
                && (row.extname?.utf8.count ?? 0) <= 80 && (row.corners?.count ?? 8) == 8
                && (row.keywords?.count ?? 0) <= maxKeywords
                && (row.keywords ?? [:]).allSatisfy { $0.key.utf8.count <= 8 && $0.value.description.utf8.count <= 80 }
        }
    }
}
