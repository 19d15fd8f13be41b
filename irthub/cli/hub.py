"""``irthub hub``: run the hub."""

from __future__ import annotations

from pathlib import Path

import click

from hub.app.build import build_hub_app
from hub.config import load_hub_config
from hub.serve import run_until_stopped

__all__ = ["group"]


@click.group(name="hub")
def group() -> None:
    """Run the hub: the broker between borough nodes (see docs/configuration.md)."""


@group.command(name="run")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The hub's TOML configuration file.",
)
def run_command(config_path: Path) -> None:
    """Serve POST /v1/messages, /healthz, /metrics and /v1/directory over mutual TLS.

    Stops cleanly on Ctrl-C or SIGTERM, letting requests in flight finish.
    """
    config = load_hub_config(config_path)
    run_until_stopped(
        lambda: build_hub_app(config),
        host=config.listen_host,
        port=config.listen_port,
        tls=config.tls,
        name="hub",
    )
