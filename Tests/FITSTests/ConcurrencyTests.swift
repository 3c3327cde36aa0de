import FITS
import Foundation
import XCTest

/// Eight threads reading different files at once get the same pixels as serial reads.
final class ConcurrencyTests: FITSTestCase {
    override class var fixtureScript: String {
        """
        import subprocess
        rng = np.random.default_rng(11)
        for i in range(8):
            if i % 2 == 0:
                data = (rng.standard_normal((300, 400)) * 50 + i).astype(np.float32)
                data[i, i] = np.nan
                hdu = fits.PrimaryHDU(data)
            else:
                data = rng.integers(-20000, 20000, size=(300, 400)).astype(np.int16)
                hdu = fits.PrimaryHDU(data)
                hdu.header['BLANK'] = -20000
            hdu.writeto('frame%d.fits' % i)
        for i in (2, 3):
            with open('frame%d.fits' % i, 'rb') as f, gzip.open('frame%d.fits.gz' % i, 'wb') as g:
                g.write(f.read())
        subprocess.run(['fpack', 'frame5.fits'], check=True)
        """
    }

    private var names: [String] {
        ["frame0.fits", "frame1.fits", "frame2.fits.gz", "frame3.fits.gz", "frame4.fits", "frame5.fits.fz",
         "frame6.fits", "frame7.fits"]
    }

    func testEightThreadsReadLikeOne() throws {
        XCTAssertTrue(FITSLibrary.isReentrant, "Debian's libcfitsio is built reentrant")
        XCTAssertTrue(FITSLibrary.version.hasPrefix("4."), FITSLibrary.version)
        let paths = names.map(path)
        let buffers = try paths.map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let serial = try paths.map { try FITSImage(contentsOfFile: $0) }
        let lock = NSLock()
        var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            for round in 0..<6 {
                do {
                    // Alternate disk and memory reads so both drivers run side by side.
                    let image = round % 2 == 0
                        ? try FITSImage(contentsOfFile: paths[i])
                        : try FITSImage(data: buffers[i], name: names[i])
                    let same = image.pixels.withUnsafeBytes { a in serial[i].pixels.withUnsafeBytes { a.elementsEqual($0) } }
                    if !same || image.mask != serial[i].mask || image.header != serial[i].header {
                        lock.withLock { failures.append("\(names[i]) round \(round) differs") }
                    }
                } catch {
                    lock.withLock { failures.append("\(names[i]) round \(round): \(error)") }
                }
            }
        }
        XCTAssertEqual(failures, [])
        XCTAssertNotNil(serial[0].mask, "NaN pixel masked")
        XCTAssertEqual(serial[5].bitpix, 16, ".fz read")
    }

    func testConcurrentWritersAreDeterministic() throws {
        let lock = NSLock()
        var outputs = [Data?](repeating: nil, count: 8)
        let table = FITSTableWriter(columns: [FITSColumn("X", .double((0..<1000).map(Double.init))),
                                              FITSColumn("F", .float((0..<3000).map(Float.init)), count: 3)],
                                    keywords: [.string("INPUT", "frame.fits")])
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let data = try? table.data()
            lock.withLock { outputs[i] = data }
        }
        let reference = try table.data()
        XCTAssertEqual(outputs, [Data?](repeating: reference, count: 8))
    }
}
