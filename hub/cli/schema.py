"""`irthub schema`: List the interchange's XSDs and validate documents against them."""

from __future__ import annotations

import click

__all__ = ["group"]


@click.group(name="schema")
def group() -> None:
    """List the interchange's XSDs and validate documents against them."""
