"""The London directory of authorities, neighbours, groups and nodes."""

from hub.directory.model import (
    Authority,
    Directory,
    GroupName,
    Node,
    Scope,
    default_directory,
    load_directory,
    parse_directory,
)

__all__ = [
    "Authority",
    "Directory",
    "GroupName",
    "Node",
    "Scope",
    "default_directory",
    "load_directory",
    "parse_directory",
]
