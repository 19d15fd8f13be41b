"""Freshness and replay protection (SPEC §2): the guard and the store it remembers in.

- ``guard``: ``ReplayGuard`` and ``FreshnessPolicy``, the checks;
- ``store``: ``SeenStore``, the interface each storage backend implements.
"""
