"""`irthub node`: run (fails closed), synth, import (all or nothing, every bad row printed,
real exports, shrink guard, dry run), rollback and match."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import irthub.cli.node as node_cli
from adapters.index.csvimport import Exports
from adapters.index.replace import import_exports
from adapters.index.sqlite_build import write_index
from adapters.synthetic import generate_children, generate_involvements, write_csv
from hub.identifiers import AuthorityCode
from hub.pki.layout import PkiLayout
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
    assert not db.exists()  # nothing half-written, not even an empty index


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


# -- irthub node run: a node fails closed ------------------------------------------


def _node_toml(folder: Path, pki: PkiLayout, index: str, extra: str = "") -> Path:
    code = AuthorityCode(LAMBETH)
    path = folder / "node.toml"
    path.write_text(
        f"""[node]
authority = "{LAMBETH}"
id = "lambeth-irt"
listen_port = 0
index = "{index}"
hub_url = "https://127.0.0.1:1/v1/messages"
data_dir = "state"
{extra}
[tls]
cert = "{pki.tls_cert(code)}"
key = "{pki.tls_key(code)}"
root = "{pki.root_cert}"
crl = "{pki.crl}"

[signing]
cert = "{pki.signing_cert(code)}"
key = "{pki.signing_key(code)}"
""",
        encoding="utf-8",
    )
    return path


def _imported(folder: Path, *, now: datetime | None = None, count: int = 300) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    children = generate_children(LAMBETH, count, seed=4)
    paths = write_csv(folder / "csv", children, generate_involvements(children, seed=4))
    import_exports(folder / "index.sqlite", *paths, now=now or datetime.now(UTC))
    return folder / "index.sqlite"


def _run_node(config: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from irthub.cli import main; main()", "node", "run",
         "--config", str(config)],
        capture_output=True, text=True, check=False, timeout=timeout,
    )  # fmt: skip


def test_a_node_whose_index_path_has_a_typo_refuses_to_start(
    tmp_path: Path, dev_pki: PkiLayout
) -> None:
    _imported(tmp_path)
    config = _node_toml(tmp_path, dev_pki, index="indx.sqlite")
    try:
        started = _run_node(config)
    except subprocess.TimeoutExpired:
        pytest.fail("the node started on an index that does not exist")
    assert started.returncode == 1
    assert started.stderr.startswith(
        f"error: the node will not start: children's index {tmp_path / 'indx.sqlite'} does not "
        "exist: import the exports into it (irthub node import) or correct the path "
        f"([node] index in {config})"
    )
    assert "Traceback" not in started.stderr
    assert not (tmp_path / "indx.sqlite").exists()


def test_a_node_starts_on_a_fresh_index_and_stops_cleanly(
    tmp_path: Path, dev_pki: PkiLayout
) -> None:
    _imported(tmp_path)
    config = _node_toml(tmp_path, dev_pki, index="index.sqlite")
    log = tmp_path / "node.log"
    with log.open("w") as handle:
        node = subprocess.Popen(
            [sys.executable, "-c", "from irthub.cli import main; main()", "node", "run",
             "--config", str(config)],
            stdout=handle, stderr=handle,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "listening on" not in log.read_text() and node.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert node.poll() is None, log.read_text()
    finally:
        node.terminate()
        node.wait(timeout=30)
    assert node.returncode == 0, log.read_text()


def _refused(config: Path) -> str:
    result = CliRunner().invoke(main, ["node", "run", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.stderr


def test_a_node_on_a_stale_index_refuses_to_start(tmp_path: Path, dev_pki: PkiLayout) -> None:
    _imported(tmp_path, now=datetime.now(UTC) - timedelta(days=3))
    stderr = _refused(_node_toml(tmp_path, dev_pki, index="index.sqlite"))
    assert stderr.startswith("error: the node will not start: the children's index was imported ")
    assert "longer ago than the 2.0 days allowed ([node] index_max_age_hours)" in stderr


def test_a_node_on_an_empty_index_refuses_to_start(tmp_path: Path, dev_pki: PkiLayout) -> None:
    write_index(tmp_path / "index.sqlite", Exports((), ()), imported_at=datetime.now(UTC))
    stderr = _refused(_node_toml(tmp_path, dev_pki, index="index.sqlite"))
    assert stderr.startswith(
        "error: the node will not start: the children's index is empty: a node answering from "
        "it would say not-known for every child; import the borough's exports"
    )


def test_a_node_on_an_unreadable_index_refuses_to_start(tmp_path: Path, dev_pki: PkiLayout) -> None:
    (tmp_path / "index.sqlite").write_bytes(b"a file that is not an index" * 40)
    stderr = _refused(_node_toml(tmp_path, dev_pki, index="index.sqlite"))
    assert stderr.startswith("error: the node will not start: children's index ")
    assert "file is not a database; is it an index written by irthub node import?" in stderr


# -- irthub node import / rollback -------------------------------------------------


def test_a_truncated_export_is_refused_then_forced_then_rolled_back(tmp_path: Path) -> None:
    runner = CliRunner()
    _synth(runner, tmp_path)
    db = tmp_path / "index.sqlite"
    children, involvements = tmp_path / "children.csv", tmp_path / "involvements.csv"
    assert runner.invoke(main, ["node", "import", "--db", str(db), str(children),
                                str(involvements)]).exit_code == 0  # fmt: skip
    truncated = tmp_path / "truncated.csv"
    truncated.write_text(
        "".join(children.read_text(encoding="utf-8").splitlines(keepends=True)[:3]),
        encoding="utf-8",
    )
    empty_involvements = tmp_path / "none.csv"
    empty_involvements.write_text(
        involvements.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8"
    )
    args = ["node", "import", "--db", str(db), str(truncated), str(empty_involvements)]
    refused = runner.invoke(main, args)
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        f"error: schema-invalid: the exports hold 2 children, 298 fewer than the 300 in {db} "
        "(a drop of 99.3 %, more than the 10 % allowed): nothing was imported."
    )
    assert "import again with --force" in refused.stderr
    forced = runner.invoke(main, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert forced.stdout.splitlines() == [
        f"imported 2 children and 0 involvements into {db}",
        "the index held 300 children before: -298 (-99.3 %)",
        "the index replaced is kept: `irthub node rollback` serves it again",
    ]
    rolled = runner.invoke(main, ["node", "rollback", "--db", str(db)])
    assert rolled.exit_code == 0, rolled.output
    assert rolled.stdout.startswith(f"rolled back: {db} holds 300 children again, imported ")
    assert "the index it replaced (2 children) is kept as index.sqlite.previous" in rolled.stdout


def test_a_dry_run_summarises_and_writes_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    _synth(runner, tmp_path)
    db = tmp_path / "index.sqlite"
    result = runner.invoke(
        main,
        ["node", "import", "--dry-run", "--db", str(db), str(tmp_path / "children.csv"),
         str(tmp_path / "involvements.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("dry run: would import 300 children and ")
    assert lines[1:] == ["there was no index before", "nothing was written"]
    assert not db.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["children.csv", "involvements.csv"]


def test_a_real_export_is_imported_through_a_mapping_with_warnings(tmp_path: Path) -> None:
    (tmp_path / "export.toml").write_text(
        '[children]\nlocal_id = "ID"\ngiven_names = "Forename"\nfamily_name = "Surname"\n'
        'birth_date = "DOB"\n[involvements]\nlocal_id = "ID"\n',
        encoding="utf-8",
    )
    (tmp_path / "children.csv").write_bytes(
        "ID,Surname,Forename,DOB\r\nA1,Zoë,Chloé,14/03/2015\r\nA2,Smith,Baby of Jane Smith,\r\n"
        "A3,Okafor,Kofi,2/11/2012\r\n".encode("cp1252")
    )
    (tmp_path / "involvements.csv").write_text(
        "ID,agency,service,category,status\nA1,health,CAMHS,mental-health,open\n",
        encoding="utf-8",
    )
    db = tmp_path / "index.sqlite"
    result = CliRunner().invoke(
        main,
        ["node", "import", "--db", str(db), "--mapping", str(tmp_path / "export.toml"),
         "--encoding", "windows-1252", "--date-format", "DD/MM/YYYY",
         str(tmp_path / "children.csv"), str(tmp_path / "involvements.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        f"imported 3 children and 1 involvements into {db}",
        "partial records: 1 no birth date, 1 no given name",
    ]
    warnings = result.stderr.splitlines()
    assert (
        f"{tmp_path / 'children.csv'}:1: warning: no column for postcode: empty for every row"
        in (warnings)
    )
    assert any(
        line.startswith(f"{tmp_path / 'children.csv'}:3: warning: given_names 'Baby of Jane")
        for line in warnings
    )
    match = CliRunner().invoke(
        main, ["node", "match", "--db", str(db), "--given", "Chloe", "--family", "Zoe",
               "--dob", "2015-03-14"],
    )  # fmt: skip
    assert match.stdout.startswith("known: A1 (score ")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--encoding", "ebcdic-9"], "error: schema-invalid: encoding 'ebcdic-9' is unknown"),
        (["--date-format", "DD/MM/YY"], "error: schema-invalid: date format 'DD/MM/YY' must hold"),
        (["--max-shrink", "1.5"], "error: schema-invalid: the largest share of children an "
         "import may drop must be at least 0 and below 1"),
    ],
)  # fmt: skip
def test_bad_import_options_are_named(tmp_path: Path, options: list[str], message: str) -> None:
    runner = CliRunner()
    _synth(runner, tmp_path)
    result = runner.invoke(
        main,
        ["node", "import", "--db", str(tmp_path / "index.sqlite"), *options,
         str(tmp_path / "children.csv"), str(tmp_path / "involvements.csv")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert not (tmp_path / "index.sqlite").exists()


def test_import_and_rollback_read_the_index_and_share_from_the_node_config(
    tmp_path: Path, dev_pki: PkiLayout
) -> None:
    runner = CliRunner()
    _synth(runner, tmp_path)
    config = _node_toml(tmp_path, dev_pki, "idx/index.sqlite", "index_max_shrink = 0.995\n")
    (tmp_path / "idx").mkdir()
    files = [str(tmp_path / "children.csv"), str(tmp_path / "involvements.csv")]
    assert runner.invoke(main, ["node", "import", "--config", str(config), *files]).exit_code == 0
    lines = (tmp_path / "children.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "children.csv").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    (tmp_path / "involvements.csv").write_text(
        (tmp_path / "involvements.csv").read_text(encoding="utf-8").splitlines()[0] + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["node", "import", "--config", str(config), *files])
    assert result.exit_code == 0, result.output  # 99.3 % is within the configured 99.5 %
    back = runner.invoke(main, ["node", "rollback", "--config", str(config)])
    assert back.stdout.startswith(f"rolled back: {tmp_path / 'idx' / 'index.sqlite'} holds 300")
    neither = runner.invoke(main, ["node", "rollback"])
    assert neither.exit_code == 2
    assert "name the index with --db FILE or --config node.toml" in neither.output


def test_a_long_import_shows_a_progress_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    _synth(runner, tmp_path)
    monkeypatch.setattr(node_cli, "PROGRESS_MIN_BYTES", 0)
    result = runner.invoke(
        main,
        ["node", "import", "--db", str(tmp_path / "index.sqlite"),
         str(tmp_path / "children.csv"), str(tmp_path / "involvements.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "reading the exports" in result.stderr
    assert "reading the exports" not in result.stdout
