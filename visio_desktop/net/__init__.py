"""net layer of Visio Desktop (see docs/architecture.md)."""
