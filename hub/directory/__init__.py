"""The London directory of authorities, neighbours, groups and nodes."""

from hub.directory.model import (
    DEFAULT_DIRECTORY_PATH,
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
    "DEFAULT_DIRECTORY_PATH",
    "Authority",
    "Directory",
    "GroupName",
    "Node",
    "Scope",
    "default_directory",
    "load_directory",
    "parse_directory",
]
