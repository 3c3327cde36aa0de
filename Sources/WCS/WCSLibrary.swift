import CWCSLIB

/// Facts about the linked wcslib.
public enum WCSLibrary {
    /// The linked wcslib's version as it reports it at run time (`wcslib_version`), e.g. "7.12".
    public static var version: String {
        guard let text = wcslib_version(nil) else { return "unknown" }
        return String(cString: text)
    }
}
