"""Versioned XSDs of the interchange, one folder per namespace: ``<name>/<version>/*.xsd``."""
