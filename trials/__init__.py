"""Channel Trials, the application: domain, storage, ingest, analysis, reports and the CLI.

``APP_VERSION`` is the one version (``pyproject.toml``); the decision log's snapshots record
it. Installed (``make app`` runs ``pip install -e .``), it comes from the package metadata;
run from a bare checkout, from ``pyproject.toml`` itself.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

__all__ = ["APP_VERSION"]


def _version() -> str:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if (
        pyproject.is_file()
    ):  # a checkout: the file is the source, even if an older copy is installed
        return tomllib.loads(pyproject.read_text("utf-8"))["project"]["version"]
    return metadata.version("channel-trials")


APP_VERSION = _version()
