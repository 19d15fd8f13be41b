"""Benchmarks, one script each: run as ``python bench/<name>.py`` (see ``make bench``)."""
