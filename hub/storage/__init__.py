"""Where the hub keeps what it keeps: SQLite (embedded default) or PostgreSQL.

Each store is a small Protocol defined beside its concept (``SeenStore`` in
``hub.replay.guard``, ``LogStorage`` in ``hub.log.store``, the referral stores in
``hub.referral.store``), with a SQLite implementation and a PostgreSQL one.
This package holds what the backends share:

- ``migrate``: versioned schema migrations for both backends;
- ``postgres``: ``PgDatabase``, one asyncpg pool usable from threads and loops;
- ``pg_seen``: ``PgSeenStore``, replay detection shared by every instance;
- ``settings``: the ``[storage]`` settings and opening the chosen backend.

Nothing is imported here, so that the SQLite path never loads asyncpg.
"""
