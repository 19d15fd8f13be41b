"""Information sharing protocols: the agreed, unsigned text of one ISP document per authority.

Each authority signs its own (``irthub policy sign``); the hub enforces only
the signed copies in its ``[hub] protocols`` folder (see docs/policy.md).
"""
