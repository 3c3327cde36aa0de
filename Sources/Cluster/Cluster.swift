// Cluster module: see docs/ARCHITECTURE.md
