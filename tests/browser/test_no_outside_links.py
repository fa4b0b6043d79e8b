"""Nothing a user typed becomes a link, an image or markup, and no page fetches anything
from another host: trials, arms, hypotheses, notes, a user name and file names that are
Markdown images, bare URLs, www. and e-mail addresses, HTML and links, on every page and
in an import error, in a real browser (Debian's chromium, driven by Playwright).

Every request the browser makes is recorded; a "trap" server stands on the port the
hostile image points at, and must see no request either.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import pytest

from tests.browser.test_end_to_end import (
    CHROMIUM_FLAGS,
    _chromium,
    _free_port,
    app_command,
    sign_in,
    stop,
    wait_until_serving,
)
from tests.conftest import ROOT

ADMIN = "www.evil.example"  # the account signed in, a bare address as a name
PASSWORD = "a long enough password"

pytestmark = pytest.mark.browser

PAGES = {
    "Trials": "",
    "Trial": "trial?trial=1",
    "Data": "data?trial=1",
    "Results": "results?trial=1",
    "Recommendations": "recommendations?trial=1",
    "Plan": "plan",
    "New trial": "new_trial",
    "Trial (another)": "trial?trial=2",
}
# What shows once each page has run (the model's pages wait for the full fit).
WAIT_FOR = {
    "Trials": "Select a row to open the trial",
    "Trial": "Hypothesis:",
    "Data": "Daily results export",
    "Results": "Full model:",
    "Recommendations": "Decision log",
    "Plan": "Plan a trial",
    "New trial": "Trial name",
    "Trial (another)": "Hypothesis:",
}
SLOW = ("Results", "Recommendations")


def hostile(trap: int) -> list[str]:
    return [
        f"![x](http://127.0.0.1:{trap}/x.png)",
        "http://evil.example/",
        "www.evil.example",
        "<b>x</b>",
        "[link](http://x)",
    ]


class _Trap(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self):  # pragma: no cover - only when something leaks
        _Trap.seen.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def trap():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), _Trap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Trap.seen = []
    yield server.server_address[1]
    server.shutdown()


def _populate(database: Path, trap: int) -> None:
    """Five trials named with the hostile strings; the first with arms, a hypothesis,
    imports (file names), a decision (note) and an author that are hostile too."""
    from trials.analysis.accounts import add_user, grant
    from trials.analysis.importing import commit_import, preview_import
    from trials.cli.main import main
    from trials.domain import ArmSpec, PrimaryMetric, TrialSpec
    from trials.storage.engine import connect
    from trials.storage.store import TrialStore

    names = hostile(trap)
    engine = connect(f"sqlite:///{database}")
    # The accounts are hostile too: the one signed in (shown in the sidebar) and the
    # decision's author.
    add_user(engine, None, ADMIN, password=PASSWORD, is_admin=True)
    add_user(engine, ADMIN, "boss@evil.example", password=PASSWORD)
    grant(engine, ADMIN, "Default", "boss@evil.example", "editor")
    store = TrialStore(engine, actor=ADMIN)
    start = date(2026, 9, 1)
    arms = (ArmSpec(names[3], names[4], control=True), ArmSpec(names[2], names[1]))
    for i, name in enumerate(names):
        store.create_trial(
            TrialSpec(
                name=name,
                hypothesis=" · ".join(reversed(names)) + " mail boss@evil.example",
                primary_metric=PrimaryMetric.ROAS,
                break_even_roas=2.0,
                currency="CNY",
                start=start,
                end=start + timedelta(days=27),
                budget=2000.0,
                arms=arms if i == 0 else (arms[0], ArmSpec("Weibo", "Image B")),
            )
        )
    trial = store.get_trial(1)
    for half, days in enumerate((range(0, 4), range(4, 8))):
        lines = ["date,channel,creative,impressions,clicks,conversions,spend,revenue"]
        for d in days:
            for j, arm in enumerate(trial.arms):
                channel, creative = (f'"{x}"' for x in (arm.spec.channel, arm.spec.creative))
                lines.append(
                    f"{start + timedelta(days=d)},{channel},{creative},"
                    f"{1000 + 10 * d},{40 + j},{2 + (d + j) % 3},50.00,{120 + 40 * j}.00"
                )
        data = ("\n".join(lines) + "\n").encode()
        preview = preview_import(store, trial, data, f"{names[half]}.csv")
        assert preview.plan is not None, preview.reading.errors
        commit_import(store, trial, preview)
    engine.dispose()
    env = {"TRIALS_DB": str(database), "TRIALS_USER": "boss@evil.example"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        code = main(
            [
                "decide",
                "1",
                "--keep-testing",
                f"{names[3]}·{names[4]}",
                "--note",
                f"{names[0]} {names[1]} {names[4]}",
                "--budget-change",
                names[2],
            ]
        )
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert code == 0


@pytest.fixture
def hostile_app(tmp_path, trap):
    database = tmp_path / "hostile.sqlite3"
    _populate(database, trap)
    port = _free_port()
    env = os.environ | {"TRIALS_DB": str(database), "TRIALS_USER": "<b>x</b>"}
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        app_command(port),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, server)
        yield url
    finally:
        stop(server)
        log.close()


def _same_origin(url: str, app: str) -> bool:
    if url.startswith(("data:", "blob:", "about:", "#")):
        return True
    return urlsplit(url).netloc == urlsplit(app).netloc


def _check_page(page, app: str, where: str) -> None:
    """No link or image to anywhere but the app, and no HTML element typed by a user, in
    every tab, with every expander open and every tooltip shown (they render Markdown)."""
    tabs = page.get_by_role("tab").all() or [None]
    for tab in tabs:
        if tab is not None:
            tab.click()
            page.wait_for_timeout(300)
        for summary in page.locator("[data-testid=stExpander] summary").all():
            if summary.is_visible() and summary.evaluate("e => !e.closest('[inert]')"):
                summary.click()
        for icon in page.locator("[data-testid=stTooltipIcon]").all()[:40]:
            if icon.is_visible() and icon.evaluate("e => !e.closest('[inert]')"):
                icon.hover()
                page.wait_for_timeout(150)
                _no_outside_references(page, app, f"{where}, a tooltip")
        page.mouse.move(1, 1)  # the last tooltip goes
        page.wait_for_timeout(500)
        _no_outside_references(page, app, f"{where}, {tab.inner_text() if tab else 'page'}")


def _no_outside_references(page, app: str, where: str) -> None:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    srcs = page.eval_on_selector_all("img[src]", "els => els.map(e => e.src)")
    outside = [h for h in hrefs + srcs if not _same_origin(h, app)]
    assert outside == [], where
    assert page.locator("[data-testid=stMain] b").count() == 0, where  # <b> typed, not made


def test_no_user_text_becomes_a_link_an_image_or_a_fetch(hostile_app, trap, tmp_path):
    chromium = _chromium()
    if not chromium:
        pytest.skip("no chromium here; .ci/with-chromium installs Debian's package")
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 2400})
        page.on("request", lambda r: requests.append(r.url))
        sign_in(page, hostile_app, ADMIN, PASSWORD)
        for where, route in PAGES.items():
            page.goto(f"{hostile_app}/{route}")
            page.get_by_text(WAIT_FOR[where]).first.wait_for(
                timeout=300_000 if where in SLOW else 60_000
            )
            page.wait_for_timeout(1500)
            if where == "Trial":
                # Shown as typed (the word joiner that keeps a link from forming is invisible).
                shown = page.locator("[data-testid=stMain]").inner_text().replace("\u2060", "")
                for text in hostile(trap):
                    assert text in shown
                page.locator("[data-testid=stSelectbox]").first.click()  # the trial list
                page.wait_for_timeout(500)
                _no_outside_references(page, hostile_app, "the trial list")
                page.keyboard.press("Escape")
            _check_page(page, hostile_app, where)

        # An import error naming the (hostile) file.
        page.goto(f"{hostile_app}/data?trial=1")
        page.get_by_text("Daily results export").first.wait_for(timeout=60_000)
        name = f"{hostile(trap)[0]} www.evil.example.csv"
        page.locator("input[type=file]").first.set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": b"\x00\x01\x02 not a table"}
        )
        page.locator("[data-testid=stAlertContentError]").first.wait_for(timeout=60_000)
        _check_page(page, hostile_app, "import error")
        browser.close()

    outside = [r for r in requests if not _same_origin(r, hostile_app)]
    assert outside == []
    assert _Trap.seen == []
