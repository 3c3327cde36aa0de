import Foundation

/// The frame table (`_frames.fits`, `_frames.csv`) and the zero point its depth figure uses (read by Pipeline).
public enum FrameKeys {
    public static let standardKeywords = ["FILTER", "EXPTIME", "MJD-OBS", "DATE-OBS", "AIRMASS", "GAIN", "SATURATE"]

    public static let keywords = Declare.key(
        "sextant.frames.keywords", .list, .extraction, .job, default: standardKeywords,
        shown: "`" + standardKeywords.joined(separator: ",") + "`", expected: "a comma-separated list of FITS keywords",
        doc: "header keywords copied into the frame table, one column each (from the image HDU's header, else the primary's)") { text in
        let names = ValueParsers.list(text).map { $0.uppercased() }
        return names.allSatisfy { $0.count <= 8 && $0.allSatisfy { "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_".contains($0) } }
            ? names : nil
    }

    public static let magnitudeZeroPoint = Declare.key(
        "sextant.extract.magZeroPoint", .number, .extraction, .job, default: Double?.none, shown: "none",
        expected: "a number", doc: "MAG_ZEROPOINT when neither `--zeropoint` nor a .sex file's MAG_ZEROPOINT sets one (nor `--zeropoint-keyword` finds one): the MAG_* columns and the frame table's DEPTH_MAG use it") {
        ValueParsers.number($0).map { .some($0) }
    }

    public static let all = declarations(keywords, magnitudeZeroPoint)
}
