import FITS
import Foundation
import HEALPix
import SkyMerge

/// One tile of the merged sky catalog: a FITS binary table (Parquet, HATS's own format, has no
/// writer among our packages; astropy, TOPCAT and hats-import's FITS reader read these), named
/// as HATS names its partitions: `Norder=K/Dir=D/Npix=N.fits`, D = N rounded down to 10000.
///
/// Columns: RA, DEC (degrees, of the primary detection), NDETECT (frames that saw the source),
/// FRAME (index into `_frames.csv`), HDU (the table of that frame's catalog), ROW (0-based row
/// of the primary in it, to join back to every column SEP measured), and `_healpix_29` (the
/// order-29 nested pixel, HATS's spatial index). Rows are sorted by `_healpix_29`, then frame
/// and row, so a tile's bytes depend only on its sources.
enum SkyTileFile {
    static func key(order: Int, tile: Int64) -> String {
        "Norder=\(order)/Dir=\(tile / 10_000 * 10_000)/Npix=\(tile).fits"
    }

    static func encode(_ sources: [MergedSource], order: Int, tile: Int64, matchRadius: Double) throws -> Data {
        let fine = try HEALPix(order: HEALPix.maxOrder)
        let rows = sources.map { source -> (pixel: Int64, source: MergedSource, frame: (frame: Int, hdu: Int)) in
            (fine.pixel(ra: source.primary.ra, dec: source.primary.dec), source,
             FrameCatalogReader.frameAndHDU(source.primary.frame))
        }.sorted { a, b in
            (a.pixel, a.frame.frame, a.frame.hdu, a.source.primary.row)
                < (b.pixel, b.frame.frame, b.frame.hdu, b.source.primary.row)
        }
        let columns = [
            FITSColumn("RA", .double(rows.map(\.source.primary.ra)), unit: "deg"),
            FITSColumn("DEC", .double(rows.map(\.source.primary.dec)), unit: "deg"),
            FITSColumn("NDETECT", .int32(rows.map { Int32($0.source.detectionCount) })),
            FITSColumn("FRAME", .int32(rows.map { Int32($0.frame.frame) })),
            FITSColumn("HDU", .int32(rows.map { Int32($0.frame.hdu) })),
            FITSColumn("ROW", .int64(rows.map { Int64($0.source.primary.row) })),
            FITSColumn("_healpix_29", .int64(rows.map(\.pixel))),
        ]
        let keywords: [FITSCard] = [
            .int("HPXORDER", order, comment: "HEALPix order of the tile (nested)"),
            .int("HPXPIXEL", Int(tile), comment: "HEALPix pixel of the tile"),
            .double("MATCHRAD", matchRadius * 3600, comment: "match radius [arcsec]"),
            .string("SOFTNAME", "Sextant", comment: "sextant merge"),
        ]
        return try FITSTableWriter(columns: columns, keywords: keywords, extname: "SKY").data(name: key(order: order, tile: tile))
    }
}
