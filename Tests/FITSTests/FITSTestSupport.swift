import FITS
import Foundation
import TestSupport
import XCTest

/// Shared pieces of the FITS tests: a scratch directory per test, astropy snippets run in it,
/// and the float32/uint8 arrays numpy writes with `.tofile`.
class FITSTestCase: XCTestCase {
    /// Astropy code that makes the files a test class needs; run once per class, in its directory.
    class var fixtureScript: String { "" }

    private static var directories: [ObjectIdentifier: URL] = [:]

    /// The class's scratch directory, shared by its tests.
    var directory: URL!

    override func setUpWithError() throws {
        let key = ObjectIdentifier(type(of: self))
        if let existing = Self.directories[key] {
            directory = existing
            return
        }
        directory = try TestSupport.makeTemporaryDirectory("fits-test")
        Self.directories[key] = directory
        if !Self.fixtureScript.isEmpty { try astropy(Self.fixtureScript) }
    }

    override class func tearDown() {
        if let directory = directories.removeValue(forKey: ObjectIdentifier(self)) {
            try? FileManager.default.removeItem(at: directory)
        }
        super.tearDown()
    }

    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// Runs a Python snippet with numpy as `np` and astropy.io.fits as `fits`, in the scratch
    /// directory (relative paths land there). Returns its standard output.
    @discardableResult
    func astropy(_ script: String) throws -> String {
        let prelude = """
            import os, sys, json, gzip, struct
            import numpy as np
            from astropy.io import fits
            os.chdir(sys.argv[1])

            """
        return try TestSupport.python(prelude + script, arguments: [directory.path])
    }

    /// The float32 values numpy wrote with `.astype('<f4').tofile(name)`.
    func float32File(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(name)))
        return data.withUnsafeBytes { raw in
            (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// The booleans numpy wrote with `.astype(np.uint8).tofile(name)`.
    func boolFile(_ name: String) throws -> [Bool] {
        try Data(contentsOf: URL(fileURLWithPath: path(name))).map { $0 != 0 }
    }

    /// Asserts two float arrays are bit-for-bit equal, reporting the first difference.
    func assertBitIdentical(_ actual: [Float], _ expected: [Float], _ message: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(message): pixel count", file: file, line: line)
        if let i = actual.indices.first(where: { i in i < expected.count && actual[i].bitPattern != expected[i].bitPattern }) {
            XCTFail("\(message): pixel \(i) is \(actual[i]), astropy says \(expected[i])", file: file, line: line)
        }
    }

    /// Asserts that `body` throws a FITSError whose one-line description names `file` and
    /// contains every phrase; returns the error.
    @discardableResult
    func assertFITSError(_ body: @autoclosure () throws -> Any, file name: String, contains phrases: [String],
                         file: StaticString = #filePath, line: UInt = #line) -> FITSError? {
        do {
            _ = try body()
            XCTFail("expected an error for \(name)", file: file, line: line)
            return nil
        } catch let error as FITSError {
            let text = error.description
            XCTAssertTrue(text.hasPrefix(name + ": "), "'\(text)' does not start with the file name", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), "'\(text)' is not one line", file: file, line: line)
            for phrase in phrases {
                XCTAssertTrue(text.contains(phrase), "'\(text)' lacks '\(phrase)'", file: file, line: line)
            }
            return error
        } catch {
            XCTFail("expected a FITSError, got \(error)", file: file, line: line)
            return nil
        }
    }
}
