"""``irthub demo``: the whole interchange on this machine, with nothing prepared."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import click

from hub.envelope import Practitioner
from hub.identifiers import HUB
from hub.log.routes import LOG_KEY
from irthub.demo.referrals import referral_story
from irthub.demo.report import answer_table
from irthub.demo.scenario import DOWN, QUERIES, REQUESTER, SLOW
from irthub.demo.world import DemoOptions, DemoWorld, prepare

__all__ = ["command"]


@click.command(name="demo")
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("irthub-demo"),
    show_default=True,
    help="Where PKI, indexes, configs and state go; reused on the next run.",
)
@click.option(
    "--children", type=int, default=400, show_default=True, help="Synthetic children per borough."
)
@click.option("--fresh", is_flag=True, help="Delete the working directory first.")
@click.option("--keep-running", is_flag=True, help="Leave the hub and nodes up until Ctrl-C.")
def command(workdir: Path, children: int, fresh: bool, keep_running: bool) -> None:
    """Run the interchange end to end on loopback and show what it answers.

    Creates a development PKI and a synthetic children's index for each of the
    33 London authorities, starts 33 borough nodes and the hub over mutual
    TLS, then asks, as a Lambeth social worker, about a child known in two
    other boroughs, an unknown child and an ambiguous one — with Bromley's
    node down and Wandsworth's too slow — and prints one table per query.
    """
    # The demo tells its own story on stdout; only errors from the servers show.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    options = DemoOptions(
        workdir=workdir, children_per_authority=children, down=(DOWN,), slow=(SLOW,)
    )
    prepare(options, progress=lambda line: click.echo(f"  {line}", err=True))
    asyncio.run(_run(options, keep_running=keep_running))


async def _run(options: DemoOptions, *, keep_running: bool) -> None:
    async with DemoWorld(options) as world:
        click.echo(f"\nHub listening at {world.hub_url}; {len(world.node_urls)} borough nodes.")
        click.echo(f"Bromley ({DOWN}) is down; Wandsworth ({SLOW}) answers too slowly.\n")
        client = world.client(REQUESTER)
        practitioner = Practitioner("lam-sw-0142", "Social worker", "social-care")
        for number, demo in enumerate(QUERIES, start=1):
            click.echo(f"== {number}. {demo.title}")
            click.echo(f"   Lambeth asks all of London; expected: {demo.expected}")
            answer = await client.ask(
                demo.child,
                practitioner=practitioner,
                purpose="child-protection-s47",
                consent="not-required",
                scope="london",
            )
            click.echo(answer_table(answer))
            click.echo("")
        await referral_story(world, click.echo)
        await _show_log(world, options)
        if keep_running:
            click.echo("Running; press Ctrl-C to stop.")
            await asyncio.Event().wait()
    click.echo("Stopped cleanly.")


async def _show_log(world: DemoWorld, options: DemoOptions) -> None:
    """Wait for the boroughs to cosign the latest checkpoint, then say how to audit it."""
    log = world.apps[HUB][LOG_KEY]
    checkpoint = None
    for _ in range(_COSIGN_WAIT_ROUNDS):
        checkpoint = log.latest_checkpoint()
        if checkpoint is not None and log.cosignatures(checkpoint.size):
            break
        await asyncio.sleep(0.5)
    click.echo("== The signed message log")
    click.echo(f"   {log.size()} messages logged (metadata and digests only, no personal data).")
    if checkpoint is not None:
        cosigners = len(log.cosignatures(checkpoint.size))
        click.echo(
            f"   Latest checkpoint covers {checkpoint.size} of them, "
            f"cosigned by {cosigners} borough witnesses."
        )
    pki = options.pki
    click.echo("   An auditor checks it offline, trusting only the root CA and the log key:")
    click.echo(
        f"     irthub audit verify --log {options.log_dir} --trust-root {pki.root_cert} "
        f"--crl {pki.crl} --log-key {options.log_dir / 'log.pub'} "
        f"--witnesses {options.workdir / 'hub' / 'witnesses.txt'} --quorum 17\n"
    )


_COSIGN_WAIT_ROUNDS = 20
"""Half-second rounds to wait for the first cosignatures (witnesses poll every 2 s)."""
