"""Information sharing protocols as machine-readable policy (SPEC §7)."""
