"""The marketer's loop in a real browser: a trial in two rounds (the Rounds tab, the round
picker and Compare rounds on Results), the Portfolio, What past trials teach, and the
Plan page's goal tab, on the demo data. Each page must draw its main content and no page
may fail ("Something went wrong")."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.browser.test_end_to_end import (
    CHROMIUM_FLAGS,
    PASSWORD,
    _chromium,
    _ready,
    served_app,
    sign_in,
)
from tests.conftest import ROOT

pytestmark = pytest.mark.browser
TRIAL = "WeChat vs Weibo launch"
ROUND_2 = [
    "date,channel,creative,impressions,clicks,conversions,spend,revenue",
    *(
        f"2026-11-{d},{arm}"
        for d in range(23, 29)
        for arm in ("WeChat,Moments video,600,7,1,36,90", "Weibo,Feed video,2400,30,2,36,160")
    ),
]


def _cli(env, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "trials", "--as", "browser", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _two_rounds(tmp_path, found: dict):
    def prepare(env: dict) -> None:
        _cli(env, "demo", "--today", "2026-11-22")
        _cli(
            env,
            "round",
            TRIAL,
            "--start",
            "2026-11-23",
            "--replace-creative",
            "Weibo · Feed image=Feed video",
            "--reason",
            "new Weibo content",
        )
        rows = tmp_path / "round2.csv"
        rows.write_text("\n".join(ROUND_2) + "\n", "utf-8")
        _cli(env, "import", TRIAL, str(rows))
        found["id"] = json.loads(_cli(env, "show", TRIAL, "--json"))["id"]

    return prepare


@pytest.fixture
def loop_app(tmp_path):
    found: dict = {}
    with served_app(tmp_path, _two_rounds(tmp_path, found)) as url:
        yield url, found["id"]


def test_the_loop_pages_draw_in_a_browser(loop_app, tmp_path):
    url, trial = loop_app
    chromium = _chromium()
    if not chromium:
        pytest.skip("no chromium here; .ci/with-chromium installs Debian's package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 2000})
        sign_in(page, url, "browser", PASSWORD)
        visits = [
            (f"trial?trial={trial}", "Rounds", None),
            (f"results?trial={trial}", "Compare rounds: 1 → 2", "Round 2 of 2 (the current round)"),
            (f"results?trial={trial}&round=1", "Round 1 of 2 (an earlier round)", None),
            ("portfolio", "New channels to try", None),
            ("priors", "What past trials teach", None),
            ("plan", "Plan by goal", None),
        ]
        for n, (route, text, also) in enumerate(visits):
            page.goto(f"{url}/{route}")
            _ready(page, text, timeout_s=400)
            if also:
                _ready(page, also, timeout_s=60)
            page.wait_for_timeout(1500)
            assert page.get_by_text("Something went wrong").count() == 0, route
            page.screenshot(path=str(tmp_path / f"loop-{n}.png"), full_page=True)
        browser.close()
