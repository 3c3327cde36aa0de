// Configuration, its declared keys and ConfigurationError live in Settings (the lowest module,
// which Storage uses too); everything that imports Engine sees them as before.
@_exported import Settings
