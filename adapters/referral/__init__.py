"""Referrals at a borough node: what it received, what became of what it sent.

- ``store``     the node's ``Inbox`` and ``SentReferrals`` interfaces
- ``sqlite``    their SQLite implementation (``referrals.sqlite`` in the node's data folder)
- ``receiver``  the node's handlers for ``ReferralForward``, relayed ``ReferralStatus``
                and ``ReferralDeliveryFailure``
- ``publisher`` publishing the node's service catalogue at start, until the hub acknowledges
- ``wiring``    plugging them into the node application
"""
