"""A real browser against a started app: register a trial, upload an export, wait for the
results, download the HTML report. Debian's chromium, driven by Playwright; no browser is
downloaded. Skipped only where no chromium can be found (``.ci/with-chromium`` installs it
for CI)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import ROOT
from trials.analysis.accounts import add_user
from trials.storage.engine import connect

FILES = ROOT / "tests" / "trials" / "files"
NAME = "<script>alert(1)</script> launch"
PASSWORD = "a long browser password"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def _chromium() -> str | None:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_app(tmp_path, prepare: Callable[[dict], None] | None = None) -> Iterator[str]:
    """The app served from a fresh data folder whose first administrator is ``browser``;
    ``prepare(env)`` runs first (e.g. loads data with the CLI). Yields its address."""
    port = _free_port()
    env = os.environ | {"TRIALS_DATA_DIR": str(tmp_path / "data"), "TRIALS_USER": "browser"}
    env.pop("TRIALS_DB", None)
    # The team's first administrator, as `python -m trials user add` makes them.
    engine = connect(f"sqlite:///{tmp_path / 'data' / 'trials.sqlite3'}")
    add_user(engine, None, "browser", password=PASSWORD, is_admin=True)
    engine.dispose()
    if prepare is not None:
        prepare(env)
    server = subprocess.Popen(
        app_command(port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, server)
        yield url
    finally:
        stop(server)


@pytest.fixture
def app_url(tmp_path):
    with served_app(tmp_path) as url:
        yield url


def app_command(port: int, *options: str) -> list[str]:
    """`streamlit run app.py` on ``port``, headless (the repository's config.toml applies),
    with any further ``--option value`` pairs."""
    return [
        *(sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")),
        *("--server.port", str(port), "--server.headless", "true"),
        *("--browser.gatherUsageStats", "false"),
        *options,
    ]


def stop(process: subprocess.Popen, grace_s: float = 30) -> None:
    """Ask a server to stop; kill it when it has not stopped within ``grace_s`` (on a
    loaded machine a Streamlit server may take longer than that to shut down)."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def wait_until_serving(url: str, server: subprocess.Popen, timeout_s: float = 90) -> None:
    """Until Streamlit's own readiness check (the health endpoint) answers "ok"; an error
    if the server exits or does not answer in time."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            raise RuntimeError("the app did not start")
        time.sleep(0.5)


def _ready(page, text: str, timeout_s: float = 60) -> None:
    page.get_by_text(text).first.wait_for(timeout=timeout_s * 1000)


def sign_in(page, url: str, name: str, password: str) -> None:
    """A local account's sign-in, on the page every visitor sees first."""
    page.goto(url)
    _ready(page, "Sign in to see your team's trials")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    _ready(page, "Signed in as")
    remembered(page)


def remembered(page, timeout_s: float = 30) -> None:
    """Wait until the browser holds the sign-in cookie (set by the page just after sign-in),
    so the next page load is signed in too."""
    deadline = time.monotonic() + timeout_s
    while not any(c["name"] == "channel_trials_session" for c in page.context.cookies()):
        if time.monotonic() > deadline:
            raise AssertionError("the sign-in was not remembered by the browser")
        page.wait_for_timeout(100)


def _register(page, url: str) -> None:
    # The arms grid is a canvas, so a keystroke can land before a cell editor opens; when
    # the form is refused, start again on a fresh page.
    for _attempt in range(3):
        page.goto(f"{url}/new_trial")
        _ready(page, "Trial name")
        page.get_by_label("Trial name").fill(NAME)
        page.get_by_role("spinbutton", name="Break-even ROAS").fill("2")
        for label, parts in (("Start", ["2026", "09", "01"]), ("End", ["2026", "09", "28"])):
            segments = page.get_by_role("group", name=label, exact=True).get_by_role("spinbutton")
            for i, part in enumerate(parts):
                segments.nth(i).click()
                page.keyboard.type(part)
        _fill_arms(page)
        page.get_by_role("button", name="Register trial").click()
        page.get_by_text("Registered").or_(page.get_by_text("Nothing was saved")).first.wait_for(
            timeout=60_000
        )
        if page.get_by_text("Registered").count():
            return
    raise AssertionError("the trial form was refused three times")


def _fill_arms(page) -> None:
    grid = page.get_by_test_id("stDataFrame").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    # Cells are reached by position: row 1 at +53 px, rows 35 px apart.
    page.mouse.click(box["x"] + 117, box["y"] + 53)
    page.wait_for_timeout(400)
    page.keyboard.press("Escape")
    for row, (channel, creative) in enumerate((("WeChat", "Video A"), ("Weibo", "Image B"))):
        for x, text in ((117, channel), (311, creative)):
            box = grid.bounding_box()
            page.mouse.dblclick(box["x"] + x, box["y"] + 53 + 35 * row)
            page.wait_for_timeout(400)
            page.keyboard.type(text)
            page.wait_for_timeout(200)
            page.keyboard.press("Enter")
            page.wait_for_timeout(400)


def test_register_upload_results_and_download_the_report(app_url, tmp_path):
    chromium = _chromium()
    if not chromium:
        pytest.skip("no chromium here; .ci/with-chromium installs Debian's package")
    from playwright.sync_api import sync_playwright

    dialogs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1800}, accept_downloads=True)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(page, app_url, "browser", PASSWORD)
        _register(page, app_url)
        _ready(page, NAME)  # the name shows as typed on the Trial page

        page.goto(f"{app_url}/data?trial=1")
        _ready(page, "Daily results export")
        page.locator("input[type=file]").first.set_input_files(str(FILES / "google_ads_report.csv"))
        _ready(page, "New rows")
        page.get_by_role("button", name="Import 4 rows").click()
        _ready(page, "Import 1: 4 new")

        # The name shows as typed on every page that names the trial, and nothing runs.
        page.goto(app_url)  # the Trials table is a canvas grid; its cells are in the DOM too
        page.locator("td[role=gridcell]", has_text=NAME).first.wait_for(state="attached")
        for route in ("trial?trial=1", "data?trial=1", "recommendations?trial=1"):
            page.goto(f"{app_url}/{route}")
            _ready(page, NAME, timeout_s=300)
        # One verdict, one source: the same box on the Trial, Results and Recommendations
        # pages (two days of data: the rule asks for seven).
        for route in ("trial?trial=1", "results?trial=1", "recommendations?trial=1"):
            page.goto(f"{app_url}/{route}")
            _ready(page, "The rule is not met yet: 2 of the 7 days", timeout_s=300)
            _ready(page, "Conversions and revenue: the channels' reports")

        page.goto(f"{app_url}/results?trial=1")
        _ready(page, "Full model:", timeout_s=300)
        with page.expect_download(timeout=60_000) as download:
            page.get_by_role("button", name="HTML report").click()
        path = tmp_path / "report.html"
        download.value.save_as(path)
        browser.close()
    report = path.read_text("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; launch" in report
    assert "WeChat · Video A" in report and "<svg" in report
    assert "<script" not in report.lower()
    assert dialogs == []  # nothing the user typed ran
