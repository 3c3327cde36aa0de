// Hashing module: see docs/ARCHITECTURE.md
