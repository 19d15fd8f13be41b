"""The catalogue store on SQLite and PostgreSQL: one catalogue per authority, only a
later one replaces it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.identifiers import AuthorityCode, new_message_id
from hub.services.store import StoredCatalogue
from hub.storage.postgresql.catalogues import PgCatalogueStore
from hub.storage.postgresql.database import PgDatabase
from hub.storage.sqlite.catalogues import SqliteCatalogueStore

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _entry(code: str, published: datetime, signed: bytes = b"<c/>") -> StoredCatalogue:
    return StoredCatalogue(
        authority=AuthorityCode(code),
        published=published,
        received_at=NOW,
        message_id=new_message_id(),
        signed=signed,
        receipt=b"<r/>",
    )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_only_a_later_catalogue_replaces_the_one_held(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    database = None
    if backend == "postgresql":
        database = PgDatabase(request.getfixturevalue("pg_dsn"), pool_size=2)

    def open_store() -> SqliteCatalogueStore | PgCatalogueStore:
        if database is None:
            return SqliteCatalogueStore(tmp_path / "catalogues.sqlite")
        return PgCatalogueStore(database)

    store = open_store()
    assert store.put(_entry("E09000028", NOW, b"<first/>"))
    assert not store.put(_entry("E09000028", NOW - timedelta(days=1), b"<older/>"))
    assert not store.put(_entry("E09000028", NOW, b"<same-time/>"))
    assert store.put(_entry("E09000008", NOW))
    assert store.put(_entry("E09000028", NOW + timedelta(hours=1), b"<later/>"))
    store.close()
    reopened = open_store()
    held = reopened.load_all()
    assert [e.authority for e in held] == ["E09000008", "E09000028"]
    assert held[1].signed == b"<later/>"
    assert held[1].published == NOW + timedelta(hours=1)
    if database is not None:
        database.close()
