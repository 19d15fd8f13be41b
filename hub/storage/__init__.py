"""Where the hub keeps what it keeps: SQLite (embedded default) or PostgreSQL.

Each concept owns the Protocols it is stored behind, in its ``store.py``:
the narrow interfaces its code uses (``SeenStore``, ``LeafStore``,
``ReferralStore``, ``StatusLog``, ``Outbox``, ``CatalogueStore``,
``KeptIsps``) and, where the hub needs more of it (a health check, counts,
closing), one ``…Storage`` Protocol combining them (``SeenStorage``,
``LogStorage``, ``ReferralStorage``, ``CatalogueStorage``). This package
holds the implementations, one folder per backend, and the wiring:

- ``sqlite/``, ``postgresql/``: one backend each, its migrations beside it;
  each package's ``open_storage`` opens every store of the hub;
- ``memory/``: in-process implementations for tests and one-shot tools;
- ``settings``: the ``[storage]`` settings;
- ``backends``: ``HubStorage`` (every store, typed by Protocol) and
  ``open_hub_storage``, which imports only the backend chosen;
- ``log_folder``: a message log in a folder of its own, for tools;
- ``migrate``: versioned schema migrations for both backends.

Nothing is imported here, so that the SQLite path never loads asyncpg.
"""
