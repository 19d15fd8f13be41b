"""Trust material of the London PKI: the certificate profiles as data.

``profiles/*.toml`` are the certificate profiles (root CA, message signing,
TLS) that ``irthub pki`` issues from and the trust store's checks are derived
from; ``hub.pki.profile_loader`` reads them from this package, so they ship
with an installed interchange too. ``dev/`` is the default place of a
development PKI in a checkout, ignored by git. See README.md.
"""
