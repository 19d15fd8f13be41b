"""The synthetic generator's data files: the borough data is keyed by the one list."""

from __future__ import annotations

import pytest

from adapters.synthetic import tables
from hub.authorities import AUTHORITY_NAMES
from hub.errors import InternalError
from hub.identifiers import ALL_AUTHORITIES

_HEADER = "gss_code,dfe_la,slug,districts\n"


def test_every_listed_authority_has_borough_data_under_its_own_name() -> None:
    boroughs = [tables.borough(code) for code in ALL_AUTHORITIES]
    assert [(b.code, b.name) for b in boroughs] == [
        (c, AUTHORITY_NAMES[c]) for c in ALL_AUTHORITIES
    ]
    assert all(b.districts and b.slug and len(b.dfe_la) == 3 for b in boroughs)


def _rows(codes: list[str]) -> str:
    return _HEADER + "".join(f"{code},201,place,EC1A\n" for code in codes)


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ([*ALL_AUTHORITIES[1:]], rf"boroughs\.csv: no row for {ALL_AUTHORITIES[0]}\Z"),
        (
            [*ALL_AUTHORITIES, "E09000099"],
            r"boroughs\.csv: E09000099 is not a listed authority or is repeated",
        ),
        (
            [*ALL_AUTHORITIES, ALL_AUTHORITIES[0]],
            rf"boroughs\.csv: {ALL_AUTHORITIES[0]} is not a listed authority or is repeated",
        ),
        (["HUB", *ALL_AUTHORITIES], r"boroughs\.csv: HUB is not a listed authority"),
    ],
)
def test_borough_data_that_drifts_from_the_list_is_refused(
    monkeypatch: pytest.MonkeyPatch, codes: list[str], message: str
) -> None:
    monkeypatch.setattr(tables, "_text", lambda name: _rows(codes))
    with pytest.raises(InternalError, match=message):
        tables._boroughs.__wrapped__()
