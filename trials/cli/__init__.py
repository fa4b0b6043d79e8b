"""The command line: ``python -m trials`` and ``channel-trials``."""

from trials.cli.main import main

__all__ = ["main"]
