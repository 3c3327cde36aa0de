// The tests' shared-value box is the libraries' one (Settings.Locked).
@_exported import Settings
