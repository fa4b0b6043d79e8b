"""The server is locked down by default (.streamlit/config.toml): this machine only, no
error details for visitors, no agent API, no framing site trusted; `make app` prints the
address it really serves on."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

CONFIG = ROOT / ".streamlit" / "config.toml"


def _options() -> dict[str, object]:
    values = tomllib.loads(CONFIG.read_text("utf-8"))
    return {f"{section}.{k}": v for section, options in values.items() for k, v in options.items()}


def test_every_option_is_one_this_streamlit_knows():
    from streamlit import config

    known = config.get_config_options()
    unknown = [name for name in _options() if name not in known]
    assert unknown == []


def test_the_server_is_locked_down_by_default():
    options = _options()
    assert options["server.address"] == "127.0.0.1"
    assert options["server.allowedHosts"] == ["127.0.0.1", "localhost", "::1"]
    assert options["client.showErrorDetails"] == "none"
    assert options["server.enableAgentApi"] is False
    assert options["server.enableXsrfProtection"] is True
    assert options["client.allowedOrigins"] == []


def test_the_upload_cap_matches_the_importers_limit():
    from trials.ingest.tables import ImportLimits

    cap = _options()["server.maxUploadSize"]
    assert ImportLimits().max_bytes == cap * 1024 * 1024


@pytest.mark.skipif(shutil.which("make") is None, reason="no make here")
def test_make_app_prints_the_address_it_serves_on():
    venv = Path(sys.executable).parent.parent
    shown = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "--eval",
            "show-host: ; @$(BIN)/python -c '$(APP_HOST)'",
            "show-host",
            f"VENV={venv}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == "127.0.0.1"
