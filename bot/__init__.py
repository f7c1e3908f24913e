"""allybot runtime: configuration, wiring, CLI and platform adapters."""
