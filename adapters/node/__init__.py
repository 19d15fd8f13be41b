"""A borough IRT node: answers the hub's forwarded queries from the local children's index."""
