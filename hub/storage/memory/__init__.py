"""In-process implementations of the storage interfaces, for tests and one-shot tools."""
