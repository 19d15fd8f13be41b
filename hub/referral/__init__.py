"""Referrals that are never lost (SPEC §6 Referral), one module per concept:

- ``messages``  reading and writing referral.xsd bodies (``ReferralSummary``,
                ``StatusUpdate``, receipts, forwards, histories, failures)
- ``store``     what is stored and the interfaces it is stored behind
                (``ReferralStore``, ``StatusLog``, ``Outbox``)
- ``settings``  ``[referrals]``: delivery window, retries, leases
- ``broker``    the hub's handlers: accept, check, persist, acknowledge
- ``courier``   store-and-forward delivery of the outbox
- ``wiring``    plugging it all into the hub application
- ``client``    the borough side: refer, follow a referral, post its status

The SQLite implementations of the stores live in ``hub.store``. Nothing is
imported here, so that ``hub.config`` can read the settings without
importing the hub application.
"""
