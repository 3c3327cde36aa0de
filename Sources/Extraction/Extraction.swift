// Extraction module: see docs/ARCHITECTURE.md
