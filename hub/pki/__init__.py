"""The London PKI: certificate profiles, development CA tooling and the trust store.

The profiles are data, ``certs/profiles/*.toml``: ``profile_loader`` reads
them into the frozen ``profile_model`` dataclasses, and everything else works
from what it loaded. ``certificates`` builds certificates and CRLs to the
profiles; ``issuing`` is the development CA working on a directory
(``irthub pki``), with ``layout`` (where the files live and how they are
written) and ``registry`` (``serials.json``); ``profile`` holds the checks the
profiles imply, which ``trust`` runs when it validates chains on every
message. docs/pki.md describes all of it.
"""
