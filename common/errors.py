"""Errors every command may report, in a module light enough for the command line to import
before it knows which command runs."""
from __future__ import annotations


class ConfigError(Exception):
    """A configuration mistake; the message names the file, the key and the problem."""
