"""`irthub pki`: Development PKI: the London root CA, authority and hub certificates, and the CRL."""

from __future__ import annotations

import click

__all__ = ["group"]


@click.group(name="pki")
def group() -> None:
    """Development PKI: the London root CA, authority and hub certificates, and the CRL."""
