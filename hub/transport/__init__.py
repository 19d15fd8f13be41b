"""HTTPS with mutual TLS (SPEC §4): TLS contexts, the peer's authority, outbound delivery."""
