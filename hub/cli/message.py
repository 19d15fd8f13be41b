"""`irthub message`: Sign and verify single envelopes: the integrator's debugging tools."""

from __future__ import annotations

import click

__all__ = ["group"]


@click.group(name="message")
def group() -> None:
    """Sign and verify single envelopes: the integrator's debugging tools."""
