"""A borough node's local children's index: records, the adapter interface, implementations.

- ``model``: ``ChildRecord``, ``Involvement``, ``Subject`` (validated values);
- ``fields``: parsers for each text field, shared by CSV import and queries;
- ``base``: ``ChildIndex``, the interface a borough implements (see
  ``docs/adapters.md``);
- ``exportformat``: how a borough's exports are laid out (column mapping,
  encoding, date format);
- ``csvimport``: reading a borough's two CSV exports, every bad row reported;
- ``sqlite``: ``SqliteChildIndex``, the embedded default, read-only;
- ``sqlite_build``: writing a new SQLite index file from the exports;
- ``replace``: putting a new index in place (shrink guard, atomic swap,
  rollback);
- ``memory``: ``MemoryChildIndex``, in memory, for tests.

Modules are imported directly (``from adapters.index.sqlite import
SqliteChildIndex``); this package re-exports nothing, so that matching and
indexing can depend on each other's models without import cycles.
"""
