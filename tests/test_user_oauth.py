"""User-level OAuth: the consent page clicked through in a real browser, codes and refresh tokens.

A headless Chromium, driven by Playwright, opens `/oauth/authorize`, picks a user and clicks Allow
or Deny, as a person would. The redirect lands on a small HTTP listener on 127.0.0.1 that the
tests start, which records the requests that the browser sends.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.helpers import (
    FIXTURES_DIR,
    INVALID_TOKEN,
    MISSING_ADMIN_SCOPE,
    assert_zoom_error,
    bearer,
    load_fixture_file,
)
from tests.server import ServerProcess

FIXTURE = FIXTURES_DIR / "user_oauth.yaml"
APP = "oauth-user-app"
SECOND_APP = "oauth-second-app"
DOOMED_APP = "oauth-doomed-app"
INACTIVE_APP = "oauth-inactive-app"
S2S_APP = "oauth-s2s-app"
SECRET = "oauth-secret"
ALICE_ID = "oauthAlice000000000001"
ALICE_EMAIL = "alice.oauth@example.com"
BOB_ID = "oauthBob00000000000001"
CAROL_ID = "oauthCarol000000000001"
OTHER_ACCOUNT_USER_ID = "oauthOther000000000001"
BOB_LABEL = "Bob Consent <bob.oauth@example.com>"
# A state with characters that must survive HTML escaping and URL encoding both ways.
STATE = "s/t a&t=e é<x>"
DENY_STATE = "deny-42"

BOB_PAC = {
    "pac_accounts": [
        {
            "dedicated_dial_in_number": [{"number": "442070002020", "country": "GB"}],
            "global_dial_in_numbers": [],
            "conference_id": "2020202020",
            "participant_password": "2020",
            "listen_only_password": "2021",
        }
    ]
}
TOKEN_KEYS = ["access_token", "token_type", "refresh_token", "expires_in", "scope", "api_url"]
INVALID_CODE = {"reason": "Invalid authorization code", "error": "invalid_grant"}
INVALID_REFRESH_TOKEN = {"reason": "Invalid Token!", "error": "invalid_grant"}
INVALID_CLIENT = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
UNKNOWN_CLIENT = {"reason": "Invalid client_id", "error": "invalid_client"}
AUTHORIZE_MISMATCH = {"reason": "Redirect URI mismatch.", "error": "invalid_request"}
TOKEN_MISMATCH = {"reason": "Redirect URI mismatch.", "error": "invalid_grant"}
NOT_A_CONSENTING_USER = {
    "reason": "The consenting user is not an active user of this account",
    "error": "invalid_request",
}

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Callback:
    """The redirect listener: its URL and the request targets it received, in order."""

    url: str
    targets: list[str]

    def received(self, query: list[tuple[str, str]]) -> bool:
        path = urlsplit(self.url).path
        return any(
            urlsplit(target).path == path and parse_qsl(urlsplit(target).query) == query
            for target in self.targets
        )


@pytest.fixture(scope="module")
def callback() -> Iterator[Callback]:
    targets: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            targets.append(self.path)
            body = b"<!doctype html><title>Signed in</title><p>You may close this window.</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    listener = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    yield Callback(f"http://127.0.0.1:{listener.server_address[1]}/callback", targets)
    listener.shutdown()
    listener.server_close()
    thread.join()


@pytest.fixture(scope="module")
def oauth_dir(tmp_path_factory: pytest.TempPathFactory, callback: Callback) -> Path:
    """A database with the fixture loaded, its redirect URIs pointing at the listener.

    Every server of this module runs over it; SQLite lets several processes share the file.
    """
    directory = tmp_path_factory.mktemp("user-oauth")
    text = Template(FIXTURE.read_text(encoding="utf-8")).substitute(callback=callback.url)
    path = directory / "user_oauth.yaml"
    path.write_text(text, encoding="utf-8")
    load_fixture_file(ServerProcess(directory).database_url, path)
    return directory


@pytest.fixture(scope="module")
def oauth_server(oauth_dir: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(oauth_dir, args=["--no-rate-limits"]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def authorize_url(
    server: ServerProcess, redirect_uri: str, state: str | None = None, client_id: str = APP
) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri}
    if state is not None:
        params["state"] = state
    return f"{server.base_url}/oauth/authorize?{urlencode(params)}"


def click_through(
    browser: Browser, server: ServerProcess, callback: Callback, button: str, state: str
) -> list[tuple[str, str]]:
    """Pick Bob on the consent page, click `button`, and return the callback's query."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(authorize_url(server, callback.url, state))
        page.get_by_label(BOB_LABEL).check()
        page.get_by_role("button", name=button).click()
        page.wait_for_url(lambda url: url.startswith(callback.url + "?"))
        return parse_qsl(urlsplit(page.url).query)
    finally:
        context.close()


def mint_code(
    server: ServerProcess,
    redirect_uri: str,
    user_id: str = BOB_ID,
    client_id: str = APP,
) -> str:
    """Submit the consent form without a browser and return the code from the redirect."""
    response = httpx.post(
        f"{server.base_url}/oauth/authorize",
        data={
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": "minted",
            "user_id": user_id,
            "decision": "allow",
        },
    )
    assert response.status_code == 302, response.text
    return dict(parse_qsl(urlsplit(response.headers["location"]).query))["code"]


def exchange(
    server: ServerProcess,
    code: str,
    redirect_uri: str,
    client_id: str = APP,
    secret: str = SECRET,
) -> httpx.Response:
    return httpx.post(
        server.token_url,
        auth=(client_id, secret),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
    )


def refresh(
    server: ServerProcess, refresh_token: str, client_id: str = APP, secret: str = SECRET
) -> httpx.Response:
    return httpx.post(
        server.token_url,
        auth=(client_id, secret),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
    )


def user_tokens(server: ServerProcess, redirect_uri: str, client_id: str = APP) -> dict[str, Any]:
    code = mint_code(server, redirect_uri, client_id=client_id)
    response = exchange(server, code, redirect_uri, client_id=client_id)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def get(server: ServerProcess, path: str, token: str) -> httpx.Response:
    return httpx.get(f"{server.api_url}{path}", headers=bearer(token))


def assert_oauth_error(response: httpx.Response, body: dict[str, str]) -> None:
    assert response.status_code == 400
    assert response.json() == body
    assert response.headers["content-type"] == "application/json"


# The consent page in a browser.


def test_consent_lists_active_users(oauth_server: ServerProcess, callback: Callback, page: Page):
    page.goto(authorize_url(oauth_server, callback.url, STATE))
    labels = [text.strip() for text in page.locator("label").all_inner_texts()]
    assert labels == ["Alice Allow <alice.oauth@example.com>", BOB_LABEL]


def test_consent_names_scopes(oauth_server: ServerProcess, callback: Callback, page: Page):
    page.goto(authorize_url(oauth_server, callback.url, STATE))
    assert "The app asks for: pac:read, user:read." in page.inner_text("body")


@pytest.fixture(scope="module")
def allowed(browser: Browser, oauth_server: ServerProcess, callback: Callback) -> dict[str, str]:
    query = click_through(browser, oauth_server, callback, "Allow", STATE)
    assert [name for name, _ in query] == ["code", "state"]
    assert callback.received(query)
    return dict(query)


@pytest.fixture(scope="module")
def bob_token(
    allowed: dict[str, str], oauth_server: ServerProcess, callback: Callback
) -> httpx.Response:
    return exchange(oauth_server, allowed["code"], callback.url)


def test_allow_keeps_state(allowed: dict[str, str]):
    assert allowed["state"] == STATE


def test_token_status(bob_token: httpx.Response):
    assert bob_token.status_code == 200


def test_token_keys(bob_token: httpx.Response):
    assert list(bob_token.json()) == TOKEN_KEYS


def test_token_values(bob_token: httpx.Response, oauth_server: ServerProcess):
    body = bob_token.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "pac:read user:read"
    assert body["api_url"] == oauth_server.base_url


def test_token_secrets_differ(bob_token: httpx.Response):
    body = bob_token.json()
    assert body["access_token"] != body["refresh_token"]


def test_token_not_cached(bob_token: httpx.Response):
    assert bob_token.headers["cache-control"] == "no-store"


def test_me_pac(bob_token: httpx.Response, oauth_server: ServerProcess):
    response = get(oauth_server, "/users/me/pac", bob_token.json()["access_token"])
    assert response.status_code == 200
    assert response.json() == BOB_PAC


def test_me_is_chosen_user(bob_token: httpx.Response, oauth_server: ServerProcess):
    response = get(oauth_server, "/users/me", bob_token.json()["access_token"])
    assert response.json()["id"] == BOB_ID


def test_own_id_needs_admin(bob_token: httpx.Response, oauth_server: ServerProcess):
    response = get(oauth_server, f"/users/{BOB_ID}/pac", bob_token.json()["access_token"])
    assert_zoom_error(response, 400, MISSING_ADMIN_SCOPE)


def test_own_email_needs_admin(bob_token: httpx.Response, oauth_server: ServerProcess):
    response = get(
        oauth_server, "/users/bob.oauth@example.com/pac", bob_token.json()["access_token"]
    )
    assert_zoom_error(response, 400, MISSING_ADMIN_SCOPE)


def test_other_id_needs_admin(bob_token: httpx.Response, oauth_server: ServerProcess):
    response = get(oauth_server, f"/users/{ALICE_ID}/pac", bob_token.json()["access_token"])
    assert_zoom_error(response, 400, MISSING_ADMIN_SCOPE)


def test_code_works_once(
    bob_token: httpx.Response,
    allowed: dict[str, str],
    oauth_server: ServerProcess,
    callback: Callback,
):
    assert bob_token.status_code == 200
    assert_oauth_error(exchange(oauth_server, allowed["code"], callback.url), INVALID_CODE)


def test_deny(browser: Browser, oauth_server: ServerProcess, callback: Callback):
    query = click_through(browser, oauth_server, callback, "Deny", DENY_STATE)
    assert query == [("error", "access_denied"), ("state", DENY_STATE)]
    assert callback.received(query)


# Codes, without a browser.


def test_code_without_state(oauth_server: ServerProcess, callback: Callback):
    response = httpx.post(
        f"{oauth_server.base_url}/oauth/authorize",
        data={
            "client_id": APP,
            "redirect_uri": callback.url,
            "user_id": ALICE_ID,
            "decision": "allow",
        },
    )
    location = urlsplit(response.headers["location"])
    assert [name for name, _ in parse_qsl(location.query)] == ["code"]


def test_code_of_other_app(oauth_server: ServerProcess, callback: Callback):
    code = mint_code(oauth_server, callback.url)
    response = exchange(oauth_server, code, callback.url, client_id=SECOND_APP)
    assert_oauth_error(response, INVALID_CODE)


def test_unknown_code(oauth_server: ServerProcess, callback: Callback):
    assert_oauth_error(exchange(oauth_server, "not-a-code", callback.url), INVALID_CODE)


def test_wrong_secret(oauth_server: ServerProcess, callback: Callback):
    code = mint_code(oauth_server, callback.url)
    response = exchange(oauth_server, code, callback.url, secret="wrong-secret")
    assert_oauth_error(response, INVALID_CLIENT)


def test_authorize_redirect_mismatch(oauth_server: ServerProcess, callback: Callback):
    response = httpx.get(authorize_url(oauth_server, callback.url + "/elsewhere", STATE))
    assert_oauth_error(response, AUTHORIZE_MISMATCH)


def test_consent_form_redirect_mismatch(oauth_server: ServerProcess, callback: Callback):
    response = httpx.post(
        f"{oauth_server.base_url}/oauth/authorize",
        data={
            "client_id": APP,
            "redirect_uri": "http://127.0.0.1:1/stolen",
            "user_id": BOB_ID,
            "decision": "allow",
        },
    )
    assert_oauth_error(response, AUTHORIZE_MISMATCH)


def test_token_redirect_mismatch(oauth_server: ServerProcess, callback: Callback):
    code = mint_code(oauth_server, callback.url)
    response = exchange(oauth_server, code, callback.url + "/elsewhere")
    assert_oauth_error(response, TOKEN_MISMATCH)


def test_inactive_user_cannot_consent(oauth_server: ServerProcess, callback: Callback):
    response = httpx.post(
        f"{oauth_server.base_url}/oauth/authorize",
        data={
            "client_id": APP,
            "redirect_uri": callback.url,
            "user_id": CAROL_ID,
            "decision": "allow",
        },
    )
    assert_oauth_error(response, NOT_A_CONSENTING_USER)


def test_other_account_user_cannot_consent(oauth_server: ServerProcess, callback: Callback):
    response = httpx.post(
        f"{oauth_server.base_url}/oauth/authorize",
        data={
            "client_id": APP,
            "redirect_uri": callback.url,
            "user_id": OTHER_ACCOUNT_USER_ID,
            "decision": "allow",
        },
    )
    assert_oauth_error(response, NOT_A_CONSENTING_USER)


def test_s2s_app_cannot_authorize(oauth_server: ServerProcess, callback: Callback):
    response = httpx.get(authorize_url(oauth_server, callback.url, STATE, client_id=S2S_APP))
    assert_oauth_error(
        response,
        {
            "reason": "This app cannot use the authorization code grant",
            "error": "unauthorized_client",
        },
    )


def test_response_type_token(oauth_server: ServerProcess, callback: Callback):
    url = authorize_url(oauth_server, callback.url, STATE).replace(
        "response_type=code", "response_type=token"
    )
    assert_oauth_error(
        httpx.get(url),
        {"reason": "Unsupported response_type", "error": "unsupported_response_type"},
    )


def server_time(minutes_ahead: int) -> str:
    instant = datetime.now(UTC) + timedelta(minutes=minutes_ahead)
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def aged_codes(oauth_dir: Path, callback: Callback) -> dict[int, httpx.Response]:
    """Mint codes, stop the server, and exchange each on a server whose clock runs ahead.

    Returns the token endpoint's response for each clock offset, in minutes.
    """
    first = ServerProcess(oauth_dir, args=["--no-rate-limits"]).start()
    try:
        codes = {4: mint_code(first, callback.url), 6: mint_code(first, callback.url)}
    finally:
        first.stop()
    answers = {}
    for minutes, code in codes.items():
        args = ["--no-rate-limits", "--clock-start", server_time(minutes)]
        later = ServerProcess(oauth_dir, args=args).start()
        try:
            answers[minutes] = exchange(later, code, callback.url)
        finally:
            later.stop()
    return answers


def test_code_expires(aged_codes: dict[int, httpx.Response]):
    assert_oauth_error(aged_codes[6], INVALID_CODE)


def test_code_alive_at_4_minutes(aged_codes: dict[int, httpx.Response]):
    assert aged_codes[4].status_code == 200


def race(attempt: Callable[[], httpx.Response], count: int = 8) -> list[int]:
    """Run `attempt` from `count` threads released at once; return the statuses, sorted."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def run() -> None:
        barrier.wait()
        statuses.append(attempt().status_code)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_code_race(oauth_server: ServerProcess, callback: Callback):
    code = mint_code(oauth_server, callback.url)
    statuses = race(lambda: exchange(oauth_server, code, callback.url))
    assert statuses == [200] + [400] * 7


# Refresh tokens rotate.


def test_refresh(oauth_server: ServerProcess, callback: Callback):
    first = user_tokens(oauth_server, callback.url)
    response = refresh(oauth_server, first["refresh_token"])
    assert response.status_code == 200
    assert list(response.json()) == TOKEN_KEYS
    assert response.json()["refresh_token"] != first["refresh_token"]
    assert response.json()["scope"] == "pac:read user:read"


def test_refreshed_token_works(oauth_server: ServerProcess, callback: Callback):
    first = user_tokens(oauth_server, callback.url)
    renewed = refresh(oauth_server, first["refresh_token"]).json()
    response = get(oauth_server, "/users/me/pac", renewed["access_token"])
    assert response.json() == BOB_PAC


def test_old_refresh_token_rejected(oauth_server: ServerProcess, callback: Callback):
    first = user_tokens(oauth_server, callback.url)
    assert refresh(oauth_server, first["refresh_token"]).status_code == 200
    assert_oauth_error(refresh(oauth_server, first["refresh_token"]), INVALID_REFRESH_TOKEN)


def test_new_refresh_token_rotates(oauth_server: ServerProcess, callback: Callback):
    first = user_tokens(oauth_server, callback.url)
    second = refresh(oauth_server, first["refresh_token"]).json()
    assert refresh(oauth_server, second["refresh_token"]).status_code == 200


def test_refresh_race(oauth_server: ServerProcess, callback: Callback):
    refresh_token = user_tokens(oauth_server, callback.url)["refresh_token"]
    statuses = race(lambda: refresh(oauth_server, refresh_token))
    assert statuses == [200] + [400] * 7


def test_refresh_token_of_other_app(oauth_server: ServerProcess, callback: Callback):
    first = user_tokens(oauth_server, callback.url)
    response = refresh(oauth_server, first["refresh_token"], client_id=SECOND_APP)
    assert_oauth_error(response, INVALID_REFRESH_TOKEN)


def test_access_token_is_no_refresh_token(oauth_server: ServerProcess, callback: Callback):
    first = user_tokens(oauth_server, callback.url)
    assert_oauth_error(refresh(oauth_server, first["access_token"]), INVALID_REFRESH_TOKEN)


# Automatic approval, for unattended tests of clients.


@pytest.fixture(scope="module")
def auto_server(oauth_dir: Path) -> Iterator[ServerProcess]:
    args = ["--no-rate-limits", "--auto-approve-user", ALICE_EMAIL]
    server = ServerProcess(oauth_dir, args=args).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def auto_redirect(auto_server: ServerProcess, callback: Callback) -> httpx.Response:
    return httpx.get(authorize_url(auto_server, callback.url, STATE), follow_redirects=False)


def test_auto_approve_status(auto_redirect: httpx.Response):
    assert auto_redirect.status_code == 302


def test_auto_approve_location(auto_redirect: httpx.Response, callback: Callback):
    location = urlsplit(auto_redirect.headers["location"])
    assert location._replace(query="").geturl() == callback.url
    assert [name for name, _ in parse_qsl(location.query)] == ["code", "state"]
    assert dict(parse_qsl(location.query))["state"] == STATE


def test_auto_approve_user(
    auto_redirect: httpx.Response, auto_server: ServerProcess, callback: Callback
):
    code = dict(parse_qsl(urlsplit(auto_redirect.headers["location"]).query))["code"]
    token = exchange(auto_server, code, callback.url).json()["access_token"]
    assert get(auto_server, "/users/me", token).json()["id"] == ALICE_ID


# Inactive apps get no tokens.


def test_inactive_app_cannot_authorize(oauth_server: ServerProcess, callback: Callback):
    response = httpx.get(authorize_url(oauth_server, callback.url, STATE, client_id=INACTIVE_APP))
    assert_oauth_error(response, UNKNOWN_CLIENT)


def test_inactive_app_cannot_exchange(oauth_server: ServerProcess, callback: Callback):
    response = exchange(oauth_server, "any-code", callback.url, client_id=INACTIVE_APP)
    assert_oauth_error(response, INVALID_CLIENT)


@dataclass(frozen=True)
class Deactivated:
    """A code and tokens that an app got before it was deactivated."""

    code: str
    access_token: str
    refresh_token: str


@pytest.fixture(scope="module")
def deactivated(oauth_server: ServerProcess, callback: Callback) -> Deactivated:
    code = mint_code(oauth_server, callback.url, client_id=DOOMED_APP)
    tokens = user_tokens(oauth_server, callback.url, client_id=DOOMED_APP)
    assert get(oauth_server, "/users/me/pac", tokens["access_token"]).status_code == 200
    command = [sys.executable, "-m", "zoompac", "admin", "app", "update", DOOMED_APP]
    command += ["--inactive", "--database", oauth_server.database_url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return Deactivated(code, tokens["access_token"], tokens["refresh_token"])


def test_deactivated_app_code(
    deactivated: Deactivated, oauth_server: ServerProcess, callback: Callback
):
    response = exchange(oauth_server, deactivated.code, callback.url, client_id=DOOMED_APP)
    assert_oauth_error(response, INVALID_CLIENT)


def test_deactivated_app_refresh(deactivated: Deactivated, oauth_server: ServerProcess):
    response = refresh(oauth_server, deactivated.refresh_token, client_id=DOOMED_APP)
    assert_oauth_error(response, INVALID_CLIENT)


def test_deactivated_app_access_token(deactivated: Deactivated, oauth_server: ServerProcess):
    response = get(oauth_server, "/users/me/pac", deactivated.access_token)
    assert_zoom_error(response, 401, INVALID_TOKEN)


def test_deactivated_app_authorize(
    deactivated: Deactivated, oauth_server: ServerProcess, callback: Callback
):
    response = httpx.get(authorize_url(oauth_server, callback.url, STATE, client_id=DOOMED_APP))
    assert_oauth_error(response, UNKNOWN_CLIENT)
