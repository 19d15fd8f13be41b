"""``irthub policy``: outputs and exit codes of every command."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from irthub.cli.policy import group
from tests.support.paths import PROTOCOLS

ON = ["--on", "2026-11-24"]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(group, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def lambeth_v2(tmp_path: Path) -> Path:
    data = (PROTOCOLS / "E09000022.xml").read_text()
    head, tail = data.rsplit("<MaxLevel>existence</MaxLevel>", 1)
    head = head.replace("<Version>1</Version>", "<Version>2</Version>")
    path = tmp_path / "E09000022.xml"
    path.write_text(head + "<MaxLevel>agencies</MaxLevel>" + tail)
    return path


@pytest.mark.parametrize("command", ["validate", "explain", "test", "diff", "matrix", "shadow"])
def test_every_command_has_help(command: str) -> None:
    code, output = run(command, "--help")
    assert code == 0
    assert "Usage:" in output
    assert len(output.splitlines()) > 5


def test_validate_prints_identity_and_fails_on_bad_files(tmp_path: Path) -> None:
    code, output = run(
        "validate", str(PROTOCOLS / "E09000022.xml"), str(PROTOCOLS / "template.xml")
    )
    assert code == 0
    assert "ok: " in output
    assert "isp-E09000022 version 1 for E09000022, 14 rules, sha256 " in output
    bad = tmp_path / "bad.xml"
    bad.write_text(
        (PROTOCOLS / "E09000022.xml").read_text().replace("<Consent>given", "<Consent>maybe", 1)
    )
    code, output = run("validate", str(bad))
    assert code == 1
    assert "invalid: schema-invalid: " in output
    assert "rule d-s47: line " in output


def test_explain_names_the_rules_of_both_sides() -> None:
    code, output = run(
        "explain",
        "--from",
        "E09000006",
        "--to",
        "E09000022",
        "--purpose",
        "early-help",
        "--consent",
        "not-sought",
        "--agency",
        "early-help",
        "--level",
        "agencies",
        *ON,
    )
    assert code == 0
    assert "Decision: PERMIT at level existence." in output
    assert "permit rule r-support" in output
    assert "permit rule d-early-help-unconsented" in output
    assert output.count("<- decided") == 2
    assert "Decision digest (logged): " in output


def test_explain_a_denial_says_which_rule_forbade_it() -> None:
    code, output = run(
        "explain",
        "--from",
        "E09000011",
        "--to",
        "E09000030",
        "--purpose",
        "education-welfare",
        "--consent",
        "given",
        "--agency",
        "police",
        *ON,
    )
    assert code == 0
    assert "Decision: DENY." in output
    assert "forbids it (rule d-no-police-education-welfare)" in output


def test_explain_rejects_an_unknown_authority() -> None:
    code, output = run(
        "explain",
        "--from",
        "E09000099",
        "--to",
        "E09000022",
        "--purpose",
        "early-help",
        "--consent",
        "given",
        "--agency",
        "health",
    )
    assert code == 2
    assert "Invalid value for '--from': 'E09000099' is not a London authority code" in output


def test_test_command_runs_every_fixture() -> None:
    code, output = run("test", *ON)
    assert code == 0
    lines = output.splitlines()
    assert lines[-1].endswith(" passed, 0 failed")
    assert int(lines[-1].split()[0]) == sum(1 for line in lines if line.startswith("PASS"))


def test_test_command_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    folder = tmp_path / "protocols"
    shutil.copytree(PROTOCOLS, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    fixture = folder / "fixtures" / "E09000022.toml"
    fixture.write_text(
        fixture.read_text().replace('expect_level = "details"', 'expect_level = "contacts"', 1)
    )
    code, output = run("test", str(folder), *ON)
    assert code == 1
    assert "FAIL E09000022: s47 social care" in output
    assert "level details, expected contacts" in output
    assert output.splitlines()[-1].endswith(" passed, 1 failed")
    code, output = run("test", str(folder / "E09000008.xml"), *ON)
    assert code == 0
    assert "FAIL" not in output


def test_test_command_runs_a_candidate_against_its_fixtures(lambeth_v2: Path) -> None:
    (lambeth_v2.parent / "fixtures").mkdir()
    shutil.copy(PROTOCOLS / "fixtures" / "E09000022.toml", lambeth_v2.parent / "fixtures")
    code, output = run("test", str(lambeth_v2), *ON)
    assert code == 1  # the candidate shares agencies where the fixtures expect existence
    assert "FAIL E09000022: early help without consent: existence only" in output


def test_diff_lists_the_change_grouped_and_as_csv(lambeth_v2: Path) -> None:
    code, output = run("diff", str(PROTOCOLS / "E09000022.xml"), str(lambeth_v2))
    assert code == 0
    assert (
        "Widened (new permits, or raises level or categories): 192 requests in 1 groups" in output
    )
    assert "E09000022 disclosing to every other authority; early-help, consent not-sought" in output
    assert "Narrowed (new denies, or lowers level or categories): 0 requests" in output
    code, output = run("diff", "--csv", str(PROTOCOLS / "E09000022.xml"), str(lambeth_v2))
    rows = list(csv.DictReader(io.StringIO(output)))
    assert len(rows) == 192
    assert {r["change"] for r in rows} == {"widened"}
    assert {(r["old_level"], r["new_level"]) for r in rows} == {("existence", "agencies")}


def test_matrix_is_33_by_33() -> None:
    code, output = run(
        "matrix",
        "--purpose",
        "child-in-need-s17",
        "--consent",
        "not-sought",
        "--agency",
        "health",
        *ON,
    )
    assert code == 0
    rows = [line for line in output.splitlines() if line[:2].isdigit()]
    assert len(rows) == 33
    assert all(len(row[28:].split()) == 33 for row in rows)
    merton = next(row for row in rows if row.startswith("24 Merton"))
    assert merton[28:].split()[28] == "C"  # Sutton shares contacts within South London
    assert rows[0][28:].split()[0] == "."
    code, output = run("matrix", "--purpose", "missing-child", "--csv", *ON)
    assert len(list(csv.DictReader(io.StringIO(output)))) == 33 * 32


def test_shadow_prints_differences_against_the_version_in_force(lambeth_v2: Path) -> None:
    code, output = run("shadow", str(lambeth_v2), *ON)
    assert code == 0
    assert "186 requests in 1 groups" in output
    assert "every other authority except E09000029" in output
    code, output = run("shadow", str(PROTOCOLS / "E09000022.xml"), *ON)
    assert output.splitlines()[-1] == "0 requests differ"
