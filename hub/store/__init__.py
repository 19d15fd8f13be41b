"""Durable implementations of the hub's storage interfaces, one module per store.

- ``sqlite``      the shared SQLite file handling (WAL, transactions, errors)
- ``catalogues``  ``hub.services.store.CatalogueStore``
- ``referrals``   ``hub.referral.store.ReferralStore``, ``StatusLog`` and ``Outbox``
"""
