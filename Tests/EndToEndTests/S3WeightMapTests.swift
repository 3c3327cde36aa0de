import Foundation
import Storage
import TestSupport
import XCTest

extension S3JobTests {
    /// Issue 15: a weight map in S3, found by a rule like the images, and check images committed
    /// beside the catalogs in S3; the same bytes as the same job on files.
    func testWeightMapsAndCheckImagesLiveInS3LikeTheImages() throws {
        let server = try sharedServer()
        let dir = try TestSupport.makeTemporaryDirectory("e2e-s3-weights")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = "run-\(UUID().uuidString.prefix(8))"
        let frame = FlagFrame(width: 256, height: 256, stars: 30)
        let images = dir.appendingPathComponent("in"), maps = dir.appendingPathComponent("maps")
        for directory in [images, maps] { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        try writeFITS(frame.pixels, frame, to: images.appendingPathComponent("f.fits"))
        try writeFITS(frame.weights, frame, to: maps.appendingPathComponent("f.weight.fits"))
        let store = try server.store()
        try store.put("\(run)/in/f.fits", contentsOf: images.appendingPathComponent("f.fits"))
        try store.put("\(run)/maps/f.weight.fits", contentsOf: maps.appendingPathComponent("f.weight.fits"))

        let options = ["--weight-type", "MAP_WEIGHT", "--check-image", "SEGMENTATION,BACKGROUND_RMS",
                       "--columns", "NUMBER,X_IMAGE,Y_IMAGE,FLUXERR_APER,FLAGS"]
        let onFiles = try Sextant.run(["run", images.path, "--out", dir.appendingPathComponent("out").path,
                                       "--weight-image", maps.path + "/{stem}.weight.fits"] + options)
        XCTAssertEqual(onFiles.status, 0, onFiles.stderr)
        let inS3 = try Sextant.run(["run", "s3://\(server.bucket)/\(run)/in", "--out", "s3://\(server.bucket)/\(run)/out",
                                    "--weight-image", "s3://\(server.bucket)/\(run)/maps/{stem}.weight.fits"]
                                   + options + server.conf, environment: server.environment)
        XCTAssertEqual(inS3.status, 0, inS3.stdout + inS3.stderr)
        for name in ["f.segmentation.fits", "f.background_rms.fits"] {
            XCTAssertEqual(try store.get("\(run)/out/\(name)"),
                           try Data(contentsOf: dir.appendingPathComponent("out/\(name)")), "\(name) in S3 and on files")
        }
        XCTAssertNotNil(try store.head("\(run)/out/f.cat.fits"))

        // Without the map the weighted job fails that input with one line naming the map.
        try store.delete("\(run)/maps/f.weight.fits")
        let missing = try Sextant.run(["run", "s3://\(server.bucket)/\(run)/in", "--out", "s3://\(server.bucket)/\(run)/out2",
                                       "--weight-image", "s3://\(server.bucket)/\(run)/maps/{stem}.weight.fits"]
                                      + options + server.conf, environment: server.environment)
        XCTAssertNotEqual(missing.status, 0)
        let manifest = String(decoding: try store.get("\(run)/out2/_manifest.jsonl"), as: UTF8.self)
        XCTAssertTrue(manifest.contains("f.weight.fits"), "the failed entry names the map: \(manifest)")
        XCTAssertEqual(manifest.split(separator: "\n").count, 1)
    }

    private func writeFITS(_ pixels: [Float], _ frame: FlagFrame, to url: URL) throws {
        let raw = url.appendingPathExtension("f32")
        try pixels.withUnsafeBufferPointer { try Data(buffer: $0).write(to: raw) }
        _ = try TestSupport.python("""
            import sys, numpy as np
            from astropy.io import fits
            d = np.fromfile(sys.argv[1], dtype='<f4').reshape(int(sys.argv[3]), int(sys.argv[2]))
            fits.PrimaryHDU(d).writeto(sys.argv[4], overwrite=True)
            """, arguments: [raw.path, "\(frame.width)", "\(frame.height)", url.path])
        try FileManager.default.removeItem(at: raw)
    }
}
