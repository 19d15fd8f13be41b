"""`irthub query known-to` refuses a child that cannot exist before anything is signed or sent."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from irthub.cli import main

ASKER = ["--purpose", "child-protection-s47", "--consent", "not-required",
         "--practitioner", "sw-1", "--role", "Social worker", "--agency", "social-care",
         "--scope", "london"]  # fmt: skip
NEXT_MONTH = (datetime.now(UTC) + timedelta(days=31)).date().isoformat()


@pytest.mark.parametrize(
    ("child", "message"),
    [
        (["--given", "Amara", "--family", "Okafor", "--dob", NEXT_MONTH],
         rf"birth date {NEXT_MONTH} is in the future \(today is "),
        (["--given", "Amara", "--family", "Okafor", "--dob", "2015-02-30"],
         "--dob '2015-02-30' is not a calendar date"),
        (["--given", "Amara", "--family", "Okafor", "--dob", "14/03/2015"],
         "--dob '14/03/2015' is not a date of the form YYYY-MM-DD"),
        (["--nhs", "943 476 5918"],
         r"NHSNumber '943 476 5918' is not a valid NHS number \(ten digits, modulus 11"),
        ([], "the query names no child: give an NHS number or UPN, or a given name, family "
         "name and birth date"),
        (["--given", "Amara", "--family", "Okafor"],
         "a subject needs an NHS number or UPN, or given name, family name and birth date"),
        (["--nhs", "9434765919", "--town", "London"], "give an address line with the town"),
        (["--nhs", "9434765919", *["--address-line", "a"] * 5],
         "an address has at most 4 lines, not 5"),
    ],
    ids=["future", "impossible", "not-iso", "nhs-check-digit", "empty", "no-birth-date",
         "town-alone", "five-address-lines"],
)  # fmt: skip
def test_a_query_that_cannot_be_right_never_leaves(
    tmp_path: Path, child: list[str], message: str
) -> None:
    # A config that could not even be loaded: the refusal comes before any key is read.
    config = tmp_path / "node.toml"
    config.write_text("", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["query", "known-to", "--config", str(config), *child, *ASKER]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: schema-invalid: ")
    assert re.search(message, result.stderr), result.stderr
    assert "Traceback" not in result.output
