"""The reverse-proxy example (deploy/nginx/channel-trials.conf), run as it is: nginx with a
self-signed certificate in front of two app processes started as the README says. The app
loads and takes an upload through it in a real browser, under its content policy; the
metrics, the agent API, WebSockets from other sites or from scripts without an Origin,
requests over the upload cap and other host names are refused.

Needs nginx (``.ci/with-nginx`` installs Debian's) and openssl; the browser part needs
chromium. Skipped, with the reason, where they cannot be had.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from tests.browser.test_end_to_end import CHROMIUM_FLAGS, _chromium, _free_port, sign_in, stop
from tests.conftest import ROOT
from trials.analysis.accounts import add_user
from trials.storage.engine import connect
from trials.storage.store import TrialStore

PASSWORD = "a long proxy password"

EXAMPLE = ROOT / "deploy" / "nginx" / "channel-trials.conf"
SITE = "trials.test"
FILES = ROOT / "tests" / "trials" / "files"


def _nginx() -> str | None:
    for found in (os.environ.get("NGINX"), shutil.which("nginx"), "/usr/sbin/nginx"):
        if found and os.access(found, os.X_OK):
            return found
    return None


def test_the_proxys_upload_limit_is_the_apps():
    cap = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text("utf-8"))["server"][
        "maxUploadSize"
    ]
    [limit] = re.findall(r"client_max_body_size (\d+)m;", EXAMPLE.read_text("utf-8"))
    assert int(limit) == cap + 1  # Streamlit allows 1 MB for the upload's envelope


def site_config(https: int, http: int, apps: list[int], cert: Path, key: Path) -> str:
    """The example with this test's names, ports and certificate (IPv4 only)."""
    text = EXAMPLE.read_text("utf-8")
    replacements = [
        (r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", 1),
        (r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", 1),
        (r"trials\.example\.com", SITE, 2),
        (r"\n\s*listen \[::\]:\d+[^;]*;", "", 4),
        (r"listen 443 ", f"listen 127.0.0.1:{https} ", 2),
        (r"listen 80([ ;])", rf"listen 127.0.0.1:{http}\1", 2),
        (r"server 127\.0\.0\.1:8501;", f"server 127.0.0.1:{apps[0]};", 1),
        (r"server 127\.0\.0\.1:8502;", f"server 127.0.0.1:{apps[1]};", 1),
    ]
    for pattern, new, count in replacements:
        # The example keeps its shape: what a reader changes is where the test expects it.
        text, made = re.subn(pattern, new, text)
        assert made >= count, pattern
    return text


def main_config(folder: Path, site: Path) -> str:
    temp = folder / "temp"
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (temp / name).mkdir(parents=True, exist_ok=True)
        (temp / name).chmod(0o777)  # the worker processes may run as another user
    return f"""
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
"""


def _wait_for(check, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.3)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    nginx = _nginx()
    if not nginx:
        pytest.skip("no nginx here; .ci/with-nginx installs Debian's package")
    if not shutil.which("openssl"):
        pytest.skip("no openssl here to make the test's certificate")
    folder = tmp_path_factory.mktemp("proxy")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", f"/CN={SITE}"),
            *("-addext", f"subjectAltName=DNS:{SITE}"),
        ],
        check=True,
        capture_output=True,
    )
    database = folder / "trials.sqlite3"
    env = os.environ | {"TRIALS_DB": str(database), "TRIALS_USER": "proxy-test"}
    engine = connect(f"sqlite:///{database}")
    add_user(engine, None, "proxy-test", password=PASSWORD, is_admin=True)
    engine.dispose()
    subprocess.run(
        [sys.executable, "-m", "trials", "demo", "--today", "2026-11-22"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    engine = connect(f"sqlite:///{database}")
    store = TrialStore(engine, actor="proxy-test")
    ids = {
        "email": store.get_trial("Email subject lines, November").id,
        "launch": store.get_trial("WeChat vs Weibo launch").id,
    }
    engine.dispose()
    apps = [_free_port(), _free_port()]
    https, http = _free_port(), _free_port()
    processes = []
    try:
        for port in apps:  # as the README and the example say
            processes.append(
                subprocess.Popen(
                    [
                        *(sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py")),
                        *("--server.port", str(port), "--server.allowedHosts", SITE),
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=(folder / f"app-{port}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
        site = folder / "channel-trials.conf"
        site.write_text(site_config(https, http, apps, cert, key))
        conf = folder / "nginx.conf"
        conf.write_text(main_config(folder, site))
        checked = subprocess.run(
            [nginx, "-t", "-p", str(folder), "-c", str(conf)], capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stderr
        processes.append(
            subprocess.Popen(
                [nginx, "-p", str(folder), "-c", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=(folder / "nginx.out").open("wb"),
            )
        )
        for port in apps:
            _wait_for(lambda p=port: _healthy(f"http://127.0.0.1:{p}"), "the app")
        _wait_for(lambda: _listening(https), "nginx")
        yield {"https": https, "http": http, "apps": apps, "folder": folder, **ids}
    finally:
        for process in reversed(processes):
            stop(process)


def _tls(port: int, name: str | None = SITE) -> ssl.SSLSocket:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return context.wrap_socket(raw, server_hostname=name)


def _ask(
    sock: socket.socket, request: str, whole: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body (all of it with ``whole``: the server closes after it)."""
    sock.sendall(request.encode())
    data = b""
    while whole or b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
    return status, headers, body


def _get(port: int, path: str, host: str, name: str | None = SITE):
    with _tls(port, name) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        return _ask(sock, request, whole=True)


def _websocket(port: int, host: str, origin: str | None, tls: bool = True) -> int:
    """The status a WebSocket handshake to the app's stream gets (101: opened)."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        + (f"Origin: {origin}\r\n" if origin else "")
        + "\r\n"
    )
    if tls:
        with _tls(port) as sock:
            return _ask(sock, request)[0]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        return _ask(sock, request)[0]


def test_what_the_proxy_lets_through_and_what_it_refuses(proxy):
    https, host = proxy["https"], f"{SITE}:{proxy['https']}"
    own = f"https://{host}"
    status, headers, _ = _get(https, "/", host)
    assert status == 200
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["strict-transport-security"].startswith("max-age=")
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "nginx/" not in headers.get("server", "")  # no version given away
    assert _get(https, "/_stcore/health", host)[2].strip().endswith(b"ok")
    # Open because the page needs it to start; it names no site allowed to drive the app.
    status, _, body = _get(https, "/_stcore/host-config", host)
    assert status == 200 and b'"allowedOrigins":[]' in body
    # Closed to visitors.
    for path in (
        "/_stcore/metrics",
        "/_stcore/agent/interact",
        "/_stcore/agent/openapi.json",
        "/_stcore/script-health-check",
    ):
        assert _get(https, path, host)[0] in (403, 404), path
    # The WebSocket: the site's own pages only.
    assert _websocket(https, host, None) == 403  # a script without an Origin
    assert _websocket(https, host, "https://evil.example") == 403
    assert _websocket(https, host, f"http://{host}") == 403  # not the HTTPS site
    assert _websocket(https, host, own) == 101
    # An upload bigger than the app takes: refused before it is read.
    with _tls(https) as sock:
        status, _, _ = _ask(
            sock,
            f"PUT /_stcore/upload_file/s/f HTTP/1.1\r\nHost: {host}\r\nOrigin: {own}\r\n"
            f"Content-Length: {60 * 1024 * 1024}\r\nContent-Type: multipart/form-data\r\n\r\n",
        )
    assert status == 413
    # Plain HTTP is sent to HTTPS; other names get nothing.
    with socket.create_connection(("127.0.0.1", proxy["http"]), timeout=10) as sock:
        status, headers, _ = _ask(sock, f"GET /x HTTP/1.1\r\nHost: {SITE}\r\n\r\n")
    assert status == 301 and headers["location"] == f"https://{SITE}/x"
    for name in (None, "evil.example"):
        with pytest.raises(ssl.SSLError):
            _tls(https, name).close()


def test_the_app_itself_refuses_websockets_for_other_host_names(proxy):
    # Straight to an app process (as a page on a rebound name would reach it).
    app = proxy["apps"][0]
    assert _websocket(app, f"evil.example:{app}", f"http://evil.example:{app}", tls=False) == 403
    assert _websocket(app, f"{SITE}:{app}", f"http://{SITE}:{app}", tls=False) == 101


@pytest.mark.browser
def test_the_app_loads_and_takes_an_upload_through_the_proxy(proxy):
    chromium = _chromium()
    if not chromium:
        pytest.skip("no chromium here; .ci/with-chromium installs Debian's package")
    from playwright.sync_api import sync_playwright

    site = f"https://{SITE}:{proxy['https']}"
    requests, refused = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[*CHROMIUM_FLAGS, f"--host-resolver-rules=MAP {SITE} 127.0.0.1"],
        )
        page = browser.new_page(ignore_https_errors=True, viewport={"width": 1300, "height": 1800})
        page.on("request", lambda r: requests.append(r.url))
        page.on(
            "console",
            lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.set_default_timeout(90_000)
        sign_in(page, site, "proxy-test", PASSWORD)
        page.goto(site)
        page.get_by_text("Select a row to open the trial").first.wait_for(timeout=90_000)
        # A page with a chart (drawn under the content policy) and the model's verdict.
        page.goto(f"{site}/trial?trial={proxy['email']}")
        page.get_by_text("Email subject lines").first.wait_for(timeout=90_000)
        page.get_by_role("tab", name="Daily data").click()
        page.locator("[data-testid=stVegaLiteChart]").first.wait_for(timeout=300_000)
        drawn = "[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg"
        assert page.locator(drawn).count() > 0
        # The Results page's charts (intervals, densities) under the same policy.
        page.goto(f"{site}/results?trial={proxy['email']}")
        page.get_by_text("Full model:").first.wait_for(timeout=300_000)
        page.wait_for_timeout(2000)
        assert page.locator(drawn).count() >= 4
        # An upload goes to the process that holds the session.
        page.goto(f"{site}/data?trial={proxy['launch']}")
        page.get_by_text("Daily results export").first.wait_for(timeout=90_000)
        page.locator("input[type=file]").first.set_input_files(str(FILES / "google_ads_report.csv"))
        page.get_by_text("google_ads_report.csv").first.wait_for(timeout=90_000)
        # What the reader found in the file (its dates are not this trial's): the upload
        # reached the process that holds the session, through the proxy.
        page.get_by_text("problems. Nothing is written").first.wait_for(timeout=60_000)
        browser.close()
    assert [r for r in requests if not r.startswith(site)] == []
    assert refused == []
