// FITS module: see docs/ARCHITECTURE.md
