"""Referrals that are never lost (SPEC §6 Referral), one module per concept:

- ``messages``  reading and writing referral.xsd bodies (``ReferralSummary``,
                ``StatusUpdate``, receipts, forwards, histories, failures)
- ``store``     what is stored and the interfaces it is stored behind
                (``ReferralStore``, ``StatusLog``, ``Outbox``, and
                ``ReferralStorage`` combining them)
- ``settings``  ``[referrals]``: delivery window, retries, leases
- ``handlers``  the hub's handlers: accept, check, persist, acknowledge
- ``courier``   store-and-forward delivery of the outbox

The implementations of the stores live in ``hub.storage.<backend>.referrals``,
the wiring into the hub application in ``hub.app.referrals``, and the
borough side (refer, follow a referral, post its status) in
``adapters.client.referrals`` and ``adapters.referral``. Nothing is imported
here, so that ``hub.config`` can read the settings without importing the hub
application.
"""
