"""The London IRT Interchange hub: signed envelopes, routing, policy and the message log."""
