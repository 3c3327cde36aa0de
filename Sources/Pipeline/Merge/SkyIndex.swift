import Foundation
import Storage

/// The merged catalog's index files, beside its tiles, as HATS lays a catalog out:
/// `partition_info.csv` (`Norder,Npix`, one line a tile written), `properties` (HATS's
/// key=value description: row count, RA/Dec columns, order), and `_frames.csv` (FRAME -> the
/// catalog it indexes).
enum SkyIndex {
    static func write(tiles: [SkyTileRecord], frames: [FrameCatalogRef], spec: SkyMergeSpec, report: SkyMergeReport,
                      to store: ObjectStore) throws {
        var partitions = "Norder,Npix\n"
        for tile in tiles { partitions += "\(spec.order),\(tile.tile)\n" }
        try store.put("partition_info.csv", data: Data(partitions.utf8))

        var list = "FRAME,CATALOG\n"
        for frame in frames { list += "\(frame.index),\(csvField(frame.key))\n" }
        try store.put(SkyMergeDriver.framesName, data: Data(list.utf8))

        let properties = [
            "obs_collection=sky",
            "dataproduct_type=object",
            "hats_nrows=\(report.sources)",
            "hats_col_ra=RA",
            "hats_col_dec=DEC",
            "hats_order=\(spec.order)",
            "hats_npix_suffix=.fits",
            "hats_builder=sextant merge",
            "sextant_match_radius_arcsec=\(spec.matchRadius * 3600)",
            "sextant_frames=\(frames.count)",
            "sextant_detections=\(report.detections)",
        ]
        try store.put("properties", data: Data((properties.joined(separator: "\n") + "\n").utf8))
    }

    private static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
