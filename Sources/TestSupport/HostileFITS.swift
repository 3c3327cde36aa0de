import Foundation

/// FITS files written byte by byte, so tests can make headers that lie (sizes no writer
/// would produce, BITPIX values CFITSIO refuses to write).
public enum HostileFITS {
    /// One 80-character card: `KEYWORD = value`.
    public static func card(_ keyword: String, _ value: String) -> String {
        let text = keyword.padding(toLength: 8, withPad: " ", startingAt: 0) + "= "
            + String(repeating: " ", count: max(0, 20 - value.count)) + value
        return text.padding(toLength: 80, withPad: " ", startingAt: 0)
    }

    /// A header of `cards` + END, padded to whole 2880-byte blocks, then `data` as given.
    public static func file(cards: [String], data: Data = Data()) -> Data {
        var header = cards.joined() + "END".padding(toLength: 80, withPad: " ", startingAt: 0)
        let blocks = (header.utf8.count + 2879) / 2880
        header = header.padding(toLength: blocks * 2880, withPad: " ", startingAt: 0)
        return Data(header.utf8) + data
    }

    /// A primary image claiming `width` x `height` pixels of `bitpix`, followed by
    /// `dataBytes` bytes of zeros (the 5.7 KB file: two blocks).
    public static func image(width: Int, height: Int, bitpix: Int = 16, dataBytes: Int = 2880) -> Data {
        file(cards: [card("SIMPLE", "T"), card("BITPIX", "\(bitpix)"), card("NAXIS", "2"),
                     card("NAXIS1", "\(width)"), card("NAXIS2", "\(height)")],
             data: Data(count: dataBytes))
    }
}
