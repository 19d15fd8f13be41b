"""The London PKI: certificate profile, development CA tooling and the trust store.

``profile`` says what a certificate must contain and checks it;
``certificates`` builds certificates and CRLs to that profile; ``issuing`` is
the development CA working on a directory (``irthub pki``), with ``layout``
(where the files live and how they are written) and ``registry``
(``serials.json``); ``trust`` validates chains on every message. docs/pki.md
describes all of it.
"""
