"""The London PKI: certificate profile, development CA tooling and the trust store.

``profile`` says what a certificate must contain, ``issuing`` makes them for
development, ``layout`` says where they live on disk, and ``trust`` validates
chains on every message.
"""
