"""Borough IRT nodes and the adapters that connect them to local children's systems."""
