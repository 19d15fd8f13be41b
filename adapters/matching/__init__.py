"""Matching a known-to subject against a children's index (SPEC §6).

``matcher.find`` is the entry point. Its parts, one concept each:
``normalise`` (folding names and postcodes), ``nicknames`` (the nickname
table), ``blocking`` (which records to compare), ``frequency`` (how common a
name is), ``names`` (how well names agree), ``scoring`` (points for and
against), ``decision`` (known, not-known or ambiguous, and the traits that
would decide).
"""
