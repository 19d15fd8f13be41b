"""``irthub services``, ``irthub refer`` and ``irthub referral`` against a running interchange.

The commands run in a worker thread (each starts its own event loop, as on
a borough's command line) while the hub and nodes serve on the test's loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from click.testing import CliRunner, Result

from hub.identifiers import AuthorityCode, MessageId
from hub.pki.layout import PkiLayout
from irthub.cli import main
from tests.support.parties import LAMBETH, SOUTHWARK, key_tables
from tests.support.referral_world import ReferralWorld, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    dev_pki: PkiLayout, signed_protocols: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ReferralWorld]:
    running = ReferralWorld(
        dev_pki, signed_protocols, tmp_path_factory.mktemp("cli"), authorities=(LAMBETH, SOUTHWARK)
    )
    await running.start()
    await running.publish_catalogues()
    yield running
    await running.stop()


def _config(world: ReferralWorld, code: AuthorityCode) -> Path:
    """The borough's node TOML, pointing at the running hub and the node's data folder."""
    path = world.workdir / f"{code}.toml"
    path.write_text(
        f"""[node]
authority = "{code}"
id = "{code.lower()}-irt"
listen_port = 0
index = "unused.sqlite"
hub_url = "{world.hub_url}"
data_dir = "{world.workdir / "nodes" / code}"

{key_tables(world.pki, code)}"""
    )
    return path


async def _irthub(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


async def test_services_search_prints_matches_as_json(world: ReferralWorld) -> None:
    result = await _irthub(
        "services", "search", "--config", str(_config(world, LAMBETH)),
        "--type", "camhs", "--age", "14", "--resident-of", LAMBETH, "--text", "self harm",
        "--practitioner", "lam-sw-1", "--role", "Social worker", "--agency", "social-care",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert {f["authority"] for f in found} >= {LAMBETH, SOUTHWARK}
    assert all(f["type"] == "camhs" for f in found)


async def test_refer_then_follow_then_answer(world: ReferralWorld) -> None:
    lambeth, southwark = _config(world, LAMBETH), _config(world, SOUTHWARK)
    sent = await _irthub(
        "refer", "--config", str(lambeth), "--to", SOUTHWARK, "--service", "southwark-camhs",
        "--given", "Amara", "--family", "Okafor", "--dob", "2012-03-09", "--nhs", "9434765919",
        "--level", "2", "--category", "involvement", "--category", "mental-health",
        "--reason", "Self-harm since moving schools.", "--consent", "given",
        "--purpose", "child-in-need-s17", "--practitioner", "lam-sw-1", "--role", "Social worker",
        "--agency", "social-care", "--phone", "020 7926 1000",
    )  # fmt: skip
    assert sent.exit_code == 0, sent.output
    referral_id = MessageId(sent.output.split()[1])
    assert referral_id.startswith("urn:uuid:")
    store = world.node_store(SOUTHWARK)
    await wait_until(lambda: store.get(referral_id) is not None)

    inbox = await _irthub("referral", "inbox", "--config", str(southwark))
    assert referral_id in inbox.output
    assert "[new]" in inbox.output

    declined = await _irthub(
        "referral", "update", "--config", str(southwark), referral_id,
        "--status", "declined", "--reason", "Already open to the Lambeth team.",
    )  # fmt: skip
    assert declined.exit_code == 0, declined.output
    status = await _irthub("referral", "status", "--config", str(lambeth), referral_id)
    assert status.exit_code == 0, status.output
    assert f"referral {referral_id}: delivered" in status.output
    assert "declined   Already open to the Lambeth team." in status.output
    inbox = await _irthub("referral", "inbox", "--config", str(southwark))
    assert "[declined]" in inbox.output

    # declined is final: refused before anything is signed, naming the rule.
    reopened = await _irthub(
        "referral", "update", "--config", str(southwark), referral_id, "--status", "accepted",
    )  # fmt: skip
    assert reopened.exit_code == 1
    assert "error: policy-denied: referral-status-transition: accepted is not allowed" in (
        reopened.output
    )
    assert "declined is final" in reopened.output


async def test_a_decline_without_a_reason_is_refused_before_sending(world: ReferralWorld) -> None:
    result = await _irthub(
        "referral", "update", "--config", str(_config(world, SOUTHWARK)),
        "urn:uuid:00000000-0000-4000-8000-000000000000", "--status", "declined",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "error: schema-invalid: referral-status-detail: a declined status must carry" in (
        result.output
    )


async def test_a_refused_referral_exits_1_with_code_and_reason(world: ReferralWorld) -> None:
    result = await _irthub(
        "refer", "--config", str(_config(world, LAMBETH)), "--to", SOUTHWARK,
        "--service", "southwark-camhs", "--nhs", "9434765919", "--level", "2",
        "--category", "mental-health", "--reason", "r", "--consent", "given",
        "--purpose", "child-in-need-s17", "--practitioner", "p", "--role", "r",
        "--agency", "social-care",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "error: policy-denied: not eligible" in result.output
    assert "eligibility:age" in result.output


async def test_an_inconsistent_status_is_refused_before_sending(world: ReferralWorld) -> None:
    result = await _irthub(
        "referral", "update", "--config", str(_config(world, SOUTHWARK)),
        "urn:uuid:00000000-0000-4000-8000-000000000000", "--status", "accepted",
        "--outcome", "done",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "error: schema-invalid: a accepted status cannot carry Outcome" in result.output


async def test_generate_writes_a_catalogue_publish_would_accept(tmp_path: Path) -> None:
    out = tmp_path / "southwark.xml"
    result = CliRunner().invoke(
        main, ["services", "generate", "--authority", SOUTHWARK, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert b"southwark-camhs" in out.read_bytes()
