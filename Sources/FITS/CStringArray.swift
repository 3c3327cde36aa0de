import Foundation

/// NUL-terminated copies of strings, as a `char **` for CFITSIO, freed with the array.
final class CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: max(count, 1))
        for (i, string) in strings.enumerated() {
            (pointers + i).initialize(to: strdup(string))
        }
    }

    deinit {
        for i in 0..<count { free(pointers[i]) }
        pointers.deallocate()
    }
}
