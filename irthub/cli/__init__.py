"""``irthub``: the one command line of the London IRT Interchange.

Each command group lives in its own module and is registered below. Any
``IrtError`` that escapes a command is printed as ``<spec-code>: <reason>``
on standard error with exit status 1, never as a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from hub.errors import IrtError

__all__ = ["main"]

EXIT_REJECTED = 1
"""Exit status when the input was rejected with a SPEC error code."""


class _IrtGroup(click.Group):
    """A click group that reports ``IrtError`` as its SPEC code and reason."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IrtError as exc:
            click.echo(f"error: {exc.code}: {exc.reason}", err=True)
            ctx.exit(EXIT_REJECTED)


@click.group(cls=_IrtGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="london-irt-interchange", prog_name="irthub")
def main() -> None:
    """London IRT Interchange: signed cross-border 'known to' queries and referrals.

    Borough systems, the LCPC IT forum and auditors all use this one command.
    Start with `irthub demo`; every group below has its own --help.
    """


def _register() -> None:
    # Imported here so that each group module can import `main`'s helpers
    # without a cycle, and so a broken optional group names itself clearly.
    from irthub.cli import (  # noqa: PLC0415
        audit,
        demo,
        hub,
        log,
        message,
        node,
        pki,
        policy,
        query,
        referral,
        schema,
        services,
    )

    for module in (hub, query, pki, message, schema, policy, node, log, audit, services, referral):
        main.add_command(module.group)
    main.add_command(demo.command)
    main.add_command(referral.refer_command)


_register()
