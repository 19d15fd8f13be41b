"""Benchmarks that print JSON beside a baseline measured in the same run.

Run each from the repository root as a module, ``python -m bench.<name>``
(``make bench`` runs them all), so that the root is on ``sys.path`` and a
benchmark can use the test suite's worlds from ``tests.support``.
"""
