"""Sign-in in a real browser: through a real OpenID Connect provider started for the test
run (oidc-provider-mock; ``.ci/with-oidc`` starts one and sets TEST_OIDC_ISSUER, else this
module starts its own), and with a local account; workspace isolation and a viewer's
limits as the pages show them. Nothing mocks ``st.user``: the app runs ``st.login`` against
the provider, exactly as it would against a company's.

One app server for the module (a second workspace, three accounts); a fresh browser
context (no cookies) for each test.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import urllib.request
from contextlib import contextmanager

import pytest

from tests.browser.test_end_to_end import (
    CHROMIUM_FLAGS,
    _chromium,
    _free_port,
    app_command,
    remembered,
    stop,
    wait_until_serving,
)
from tests.conftest import ROOT, _worker_database, make_spec
from trials.analysis.accounts import add_user, add_workspace, grant, open_workspace
from trials.storage.engine import connect

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
PAGES = ("", "trial", "data", "results", "recommendations", "new_trial", "plan")


@contextmanager
def _provider():
    issuer = os.environ.get("TEST_OIDC_ISSUER")
    if issuer:
        yield issuer.rstrip("/")
        return
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on localhost
    from oidc_provider_mock import run_server_in_thread

    with run_server_in_thread(port=_free_port()) as server:
        yield f"http://localhost:{server.server_port}"


def _identity(issuer: str, sub: str, claims: dict) -> None:
    """The provider's user ``sub`` with these claims (its REST hook, made for tests)."""
    request = urllib.request.Request(
        f"{issuer}/users/{sub}",
        data=json.dumps(claims).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 204


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def site(request, tmp_path_factory, worker_id):
    """The app, served with an identity provider configured, on a database (SQLite, and
    PostgreSQL when TEST_DATABASE_URL names a server) holding: tester (site administrator,
    Default), alice (editor of Default; signs in through the provider by her verified
    address), bob (viewer of Brand; local password)."""
    if not _chromium():
        pytest.skip("no chromium here; .ci/with-chromium installs Debian's package")
    folder = tmp_path_factory.mktemp("site")
    if request.param == "sqlite":
        database = f"sqlite:///{folder / 'trials.sqlite3'}"
    else:
        server = os.environ.get("TEST_DATABASE_URL")
        if not server:
            pytest.skip("TEST_DATABASE_URL is not set")
        database = _worker_database(server, f"browser_{worker_id}")
    engine = connect(database)
    add_user(engine, None, "tester", password=PASSWORD, is_admin=True)
    add_user(engine, "tester", "alice", email="alice@example.test")
    grant(engine, "tester", "Default", "alice", "editor")
    add_workspace(engine, "tester", "Brand")
    add_user(engine, "tester", "bob", password=PASSWORD)
    grant(engine, "tester", "Brand", "bob", "viewer")
    default = open_workspace(engine, "tester", "Default").create_trial(
        make_spec(name="Default plan")
    )
    brand = open_workspace(engine, "tester", "Brand").create_trial(make_spec(name="Brand secret"))
    engine.dispose()

    with _provider() as issuer:
        _identity(issuer, "alice", {"email": "alice@example.test", "email_verified": True})
        _identity(issuer, "mallory", {"email": "mallory@example.test", "email_verified": True})
        port = _free_port()
        url = f"http://localhost:{port}"
        secrets_file = folder / "secrets.toml"
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "{url}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            'client_id = "channel-trials"\n'
            'client_secret = "test-client-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n',
            encoding="utf-8",
        )
        env = os.environ | {"DATABASE_URL": database, "TRIALS_DATA_DIR": str(folder)}
        env.pop("TRIALS_DB", None)
        env.pop("TRIALS_USER", None)
        server = subprocess.Popen(
            app_command(port, "--secrets.files", str(secrets_file)),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(folder / "server.log", "wb"),  # noqa: SIM115 - closed with the process
        )
        try:
            wait_until_serving(url, server)
            yield {"url": url, "default": default.id, "brand": brand.id, "log": folder}
        finally:
            stop(server)


@pytest.fixture(scope="module")
def browser(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1300, "height": 1400})
    page = context.new_page()
    page.set_default_timeout(120_000)
    yield page
    context.close()


def _ready(page, text: str) -> None:
    # Attached, not visible: the trials table is a canvas grid whose cells sit hidden in
    # the DOM.
    page.get_by_text(text).first.wait_for(state="attached")


def _body(page) -> str:
    """Everything in the page, hidden grid cells included."""
    return page.content()


def _sign_in_locally(page, url: str, name: str, password: str) -> None:
    page.goto(url)
    _ready(page, "Sign in to see your team's trials")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _signed_out(page, url: str, timeout_s: float = 120) -> None:
    """After Sign out: confirm at the provider if it asks (RP-initiated logout), until the
    app shows its sign-in page again."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        end_session = page.get_by_role("button", name="End session")
        if end_session.count():
            end_session.click()
        elif (
            page.url.startswith(url)
            and page.get_by_text("Sign in to see your team's trials").count()
        ):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"not signed out; the page is {page.url}")


def test_no_page_shows_anything_of_a_workspace_before_sign_in(site, page):
    for route in PAGES:
        for query in ("", f"?trial={site['default']}", f"?trial={site['brand']}"):
            page.goto(f"{site['url']}/{route}{query}")
            _ready(page, "Sign in to see your team's trials")
            page.wait_for_timeout(300)
            body = _body(page)
            assert "Default plan" not in body and "Brand secret" not in body
            assert page.locator("input[type=file]").count() == 0
            labels = {b.strip() for b in page.get_by_role("button").all_inner_texts()}
            assert "Register trial" not in labels and "Delete trial" not in labels


def test_sign_in_through_the_identity_provider_opens_only_the_users_workspace(site, page):
    url = site["url"]
    page.goto(url)
    page.get_by_role("button", name="Sign in with your company account").click()
    page.wait_for_url("**/oauth2/authorize**")  # the provider's own page
    page.locator("input[name=sub]").fill("alice")
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}/**")
    _ready(page, "Signed in as")
    _ready(page, "Default plan")
    assert "Brand secret" not in _body(page)
    # Another workspace's trial by id in the address: not shown, on every per-trial page.
    for route in ("trial", "data", "results", "recommendations"):
        page.goto(f"{url}/{route}?trial={site['brand']}")
        _ready(page, "Signed in as")
        page.wait_for_timeout(500)
        assert "Brand secret" not in _body(page)
    # The sign-in is remembered (the identity cookie) and ends with Sign out.
    page.goto(url)
    _ready(page, "Default plan")
    with page.expect_navigation():  # to Streamlit's sign-out address, which clears its cookie
        page.get_by_role("button", name="Sign out").click()
    # Streamlit may end the session at the provider too (RP-initiated logout, when the
    # provider offers it): the provider asks, then sends the browser back to the app.
    _signed_out(page, url)
    page.goto(url)
    _ready(page, "Sign in to see your team's trials")
    assert "Default plan" not in _body(page)


def test_an_identity_without_an_account_gets_nothing(site, page):
    page.goto(site["url"])
    page.get_by_role("button", name="Sign in with your company account").click()
    page.wait_for_url("**/oauth2/authorize**")
    page.locator("input[name=sub]").fill("mallory")
    page.get_by_role("button", name="Authorize").click()
    _ready(page, "no Channel Trials account has that verified address")
    body = _body(page)
    assert "Default plan" not in body and "Brand secret" not in body


def test_a_local_viewer_signs_in_reads_and_cannot_change(site, page):
    url = site["url"]
    _sign_in_locally(page, url, "bob", "a wrong password!")
    _ready(page, "do not match")
    _sign_in_locally(page, url, "bob", PASSWORD)
    _ready(page, "Brand secret")
    remembered(page)
    assert "Default plan" not in _body(page)
    # A new page load (a new session) remembers the sign-in: no second password.
    page.goto(f"{url}/data?trial={site['brand']}")
    _ready(page, "you cannot import data")
    assert page.locator("input[type=file]").count() == 0
    page.get_by_role("link", name="Trial", exact=True).click()
    _ready(page, "you cannot change the status or delete the trial")
    assert page.get_by_role("button", name="Delete trial").count() == 0


def test_sign_out_ends_a_local_sign_in_for_every_tab(site, page):
    url = site["url"]
    _sign_in_locally(page, url, "bob", PASSWORD)
    _ready(page, "Brand secret")
    remembered(page)
    cookie = [c for c in page.context.cookies() if c["name"] == "channel_trials_session"]
    assert cookie and cookie[0]["sameSite"] == "Strict"
    other = page.context.new_page()  # another tab of the same browser
    other.goto(url)
    _ready(other, "Brand secret")
    page.get_by_role("button", name="Sign out").click()
    _ready(page, "Sign in to see your team's trials")
    other.goto(url)  # the kept cookie is worthless now
    _ready(other, "Sign in to see your team's trials")
    assert "Brand secret" not in _body(other)
