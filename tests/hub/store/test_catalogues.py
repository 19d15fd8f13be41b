"""The SQLite catalogue store: one catalogue per authority, only a later one replaces it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.identifiers import AuthorityCode, new_message_id
from hub.services.store import StoredCatalogue
from hub.store.catalogues import SqliteCatalogueStore

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


def test_only_a_later_catalogue_replaces_the_one_held(tmp_path: Path) -> None:
    store = SqliteCatalogueStore(tmp_path / "catalogues.sqlite")
    assert store.put(_entry("E09000028", NOW, b"<first/>"))
    assert not store.put(_entry("E09000028", NOW - timedelta(days=1), b"<older/>"))
    assert not store.put(_entry("E09000028", NOW, b"<same-time/>"))
    assert store.put(_entry("E09000008", NOW))
    assert store.put(_entry("E09000028", NOW + timedelta(hours=1), b"<later/>"))
    store.close()
    reopened = SqliteCatalogueStore(tmp_path / "catalogues.sqlite")
    held = reopened.load_all()
    assert [e.authority for e in held] == ["E09000008", "E09000028"]
    assert held[1].signed == b"<later/>"
    assert held[1].published == NOW + timedelta(hours=1)
