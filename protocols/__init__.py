"""Information sharing protocols: one signed XML document per authority and version."""
