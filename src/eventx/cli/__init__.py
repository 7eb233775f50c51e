"""The ``eventx`` command line."""

from eventx.cli.main import main

__all__ = ["main"]
