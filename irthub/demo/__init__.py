"""``irthub demo``: the whole interchange on one machine — PKI, 33 borough nodes, the hub."""
