"""`irthub node`: synth, import (all or nothing, every bad row printed) and match."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from irthub.cli import main
from irthub.cli.node import group

LAMBETH = "E09000022"


def _synth(runner: CliRunner, out: Path) -> None:
    result = runner.invoke(
        group, ["synth", "--authority", LAMBETH, "--count", "300", "--seed", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote 300 children" in result.output


def test_synth_import_and_match(tmp_path: Path) -> None:
    runner = CliRunner()
    _synth(runner, tmp_path)
    db = tmp_path / "index.sqlite"
    children, involvements = tmp_path / "children.csv", tmp_path / "involvements.csv"
    result = runner.invoke(group, ["import", "--db", str(db), str(children), str(involvements)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("imported 300 children and ")

    with children.open(encoding="utf-8") as handle:
        child = next(csv.DictReader(handle))
    given = child["given_names"].split(";")[0]
    result = runner.invoke(
        group,
        ["match", "--db", str(db), "--given", given, "--family", child["family_name"],
         "--dob", child["birth_date"]],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"known: {child['local_id']} (score ")
    assert child["local_id"] in result.output.splitlines()[2]


def test_bad_rows_are_printed_and_nothing_is_imported(tmp_path: Path) -> None:
    runner = CliRunner()
    _synth(runner, tmp_path)
    db = tmp_path / "index.sqlite"
    children, involvements = tmp_path / "children.csv", tmp_path / "involvements.csv"
    lines = children.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(lines[2].split(",")[4], "2015-02-30")
    lines[5] = "X" + lines[5]
    children.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = runner.invoke(group, ["import", "--db", str(db), str(children), str(involvements)])
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert errors[0].startswith("error: schema-invalid: ")
    assert errors[1] == f"{children}:3: birth_date '2015-02-30' is not a calendar date"
    assert any(
        line.startswith(f"{involvements}:") and "is not in children.csv" in line for line in errors
    )
    match = runner.invoke(group, ["match", "--db", str(db), "--given", "Ann", "--family", "Lee",
                                  "--dob", "2015-01-01"])  # fmt: skip
    assert match.output.startswith("not-known")


def test_match_refuses_an_invalid_subject(tmp_path: Path) -> None:
    runner = CliRunner()
    _synth(runner, tmp_path)
    db = tmp_path / "index.sqlite"
    runner.invoke(
        group,
        [
            "import",
            "--db",
            str(db),
            str(tmp_path / "children.csv"),
            str(tmp_path / "involvements.csv"),
        ],
    )
    result = runner.invoke(main, ["node", "match", "--db", str(db), "--nhs", "9434765918"])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: schema-invalid: NHSNumber '9434765918' is not a valid NHS number"
    )
