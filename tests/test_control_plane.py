"""The control plane under `/zoompac/`, driven over HTTP against real `zoompac serve` processes.

Most tests share one seeded server with the demo data and `tests/fixtures/control_plane.yaml`,
reset to those fixtures before each test. Tests that change what a reset restores (loads,
resets to empty) share a second server that is emptied and loaded again before each test. Tests
of start-up options start servers of their own.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
import yaml

from tests.helpers import (
    EXPIRED_TOKEN,
    FIXTURES_DIR,
    INVALID_TOKEN,
    ROUTE_NOT_RECOGNIZED,
    SEED_BODY,
    TRACKING_ID,
    USER_PAC_DISABLED,
    assert_zoom_error,
    bearer,
)
from tests.server import ServerProcess
from zoompac.storage.fixtures import demo_fixture_text

ServerFactory = Callable[..., ServerProcess]

ADMIN_TOKEN = secrets.token_urlsafe(24)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ADMIN_ENV = {"ZOOMPAC_ADMIN_TOKEN": ADMIN_TOKEN}
FIXTURE = FIXTURES_DIR / "control_plane.yaml"
SERVER_ARGS = ["--demo", "--no-rate-limits", "--seed", "7070", "--fixture", str(FIXTURE)]

PAC_USER = "pac.user@example.com"
PAC_USER_ID = "pYqg5uJ8QjWkS3d0lX7n2A"
PAC_PATH = f"/v2/users/{PAC_USER}/pac"
CONTROL_ACCOUNT = "control-account"
CONTROL_ADMIN = "control-admin"
CONTROL_ADMIN_SECRET = "control-admin-secret-Q7v"
USER_APP = "control-user-app"
USER_APP_SECRET = "control-user-secret-W3k"
REDIRECT_URI = "http://127.0.0.1:9/callback"
CONTROL_USER = "control.user@example.com"
CONTROL_USER_ID = "controlUser00000000001"
CONTROL_PASSWORDS = ["Pq7!a", "Lq7!b"]

BAD_ADMIN_TOKEN = {"code": 401, "message": "Missing or invalid admin token for the control plane."}
STARTUP_SETTINGS = {
    "conference_id_format": "string",
    "token_lifetime": 3600,
    "revoke_older_tokens": False,
    "rate_limits": False,
    "rate_limit": [],
    "auto_approve_user": None,
}
JOURNAL_KEYS = [
    "time",
    "method",
    "path",
    "query",
    "status",
    "zoom_code",
    "oauth_error",
    "duration_ms",
    "client_id",
    "user_id",
    "tracking_id",
]
FAULT_KEYS = [
    "id",
    "method",
    "path",
    "status",
    "body",
    "headers",
    "latency_ms",
    "drop",
    "times",
    "probability",
    "matched",
]
PER_SECOND_LIMIT = {
    "code": 429,
    "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
}
EMPTY_STATE = {"version": 1, "accounts": []}

# Every route of the control plane, with a request body that it would accept.
ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/zoompac/reset", {"to": "fixture"}),
    ("POST", "/zoompac/load", {"accounts": []}),
    ("GET", "/zoompac/state", None),
    ("GET", "/zoompac/journal", None),
    ("DELETE", "/zoompac/journal", None),
    ("GET", "/zoompac/faults", None),
    ("POST", "/zoompac/faults", {"status": 500}),
    ("DELETE", "/zoompac/faults", None),
    ("DELETE", "/zoompac/faults/no-such-fault", None),
    ("GET", "/zoompac/clock", None),
    ("POST", "/zoompac/clock", {"freeze": True}),
    ("GET", "/zoompac/settings", None),
    ("PATCH", "/zoompac/settings", {"token_lifetime": 60}),
    ("PATCH", f"/zoompac/users/{PAC_USER}", {"pac_enabled": False}),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in ROUTES]

# A fixture in YAML and the same data in JSON, for the load tests. Its client secret and PAC
# passwords are given in plain text.
LOADED_YAML = """\
version: 1
accounts:
  - id: loaded-account
    apps:
      - {client_id: loaded-admin, client_secret: loaded-secret, scopes: [pac:read:admin]}
    users:
      - id: loadedUser000000000001
        email: loaded.user@example.com
        pac_accounts:
          - conference_id: 4242424242
            participant_password: "4242"
            listen_only_password: "2424"
            global_dial_in_numbers:
              - {number: "15550104242", country: US}
"""
LOADED_DOCUMENT = yaml.safe_load(LOADED_YAML)
LOADED_PAC_BODY = {
    "pac_accounts": [
        {
            "dedicated_dial_in_number": [],
            "global_dial_in_numbers": [{"number": "15550104242", "country": "US"}],
            "conference_id": "4242424242",
            "participant_password": "4242",
            "listen_only_password": "2424",
        }
    ]
}


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("control-plane"), args=SERVER_ARGS, env=ADMIN_ENV
    ).start()
    yield process
    process.stop()


@pytest.fixture
def admin(server: ServerProcess) -> Iterator[httpx.Client]:
    """Return a client of the shared server that sends the admin token, after a reset."""
    with httpx.Client(base_url=server.base_url, headers=ADMIN) as client:
        response = client.post("/zoompac/reset", json={"to": "fixture"})
        assert response.status_code == 200
        yield client


@pytest.fixture
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    """A client of the shared server without the admin token."""
    with httpx.Client(base_url=server.base_url) as client:
        yield client


@pytest.fixture(scope="module")
def scratch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("control-plane-scratch"),
        args=["--no-rate-limits", "--seed", "7071"],
        env=ADMIN_ENV,
    ).start()
    yield process
    process.stop()


@pytest.fixture
def own_admin(scratch_server: ServerProcess) -> Iterator[httpx.Client]:
    """Return an admin client of the scratch server, emptied and loaded with the demo data and
    the fixture again, for tests that change what a reset restores."""
    with httpx.Client(base_url=scratch_server.base_url, headers=ADMIN) as client:
        assert client.post("/zoompac/reset", json={"to": "empty"}).status_code == 200
        assert client.post("/zoompac/load", content=demo_fixture_text()).status_code == 200
        assert client.post("/zoompac/load", content=FIXTURE.read_bytes()).status_code == 200
        yield client


def mint(
    client: httpx.Client,
    client_id: str = "demo-client",
    client_secret: str = "demo-secret",
    account_id: str = "demo-account",
) -> httpx.Response:
    """Request a Server-to-Server token, with every parameter in the form body."""
    return client.post(
        "/oauth/token",
        auth=(client_id, client_secret),
        data={"grant_type": "account_credentials", "account_id": account_id},
    )


def mint_token(client: httpx.Client, *args: str) -> str:
    response = mint(client, *args)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def api_client(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.base_url)


def journal(admin: httpx.Client, **params: str) -> list[dict[str, Any]]:
    response = admin.get("/zoompac/journal", params=params)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["requests"]
    return entries


def state(admin: httpx.Client) -> dict[str, Any]:
    response = admin.get("/zoompac/state")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def add_fault(admin: httpx.Client, **spec: Any) -> dict[str, Any]:
    response = admin.post("/zoompac/faults", json=spec)
    assert response.status_code == 201, response.text
    fault: dict[str, Any] = response.json()
    return fault


def faults(admin: httpx.Client) -> list[dict[str, Any]]:
    response = admin.get("/zoompac/faults")
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["faults"]
    return listed


def settings(admin: httpx.Client) -> dict[str, Any]:
    response = admin.get("/zoompac/settings")
    assert response.status_code == 200, response.text
    current: dict[str, Any] = response.json()
    return current


def clock(admin: httpx.Client, **change: Any) -> dict[str, Any]:
    response = admin.post("/zoompac/clock", json=change) if change else admin.get("/zoompac/clock")
    assert response.status_code == 200, response.text
    current: dict[str, Any] = response.json()
    return current


def patch_settings(admin: httpx.Client, **changes: Any) -> dict[str, Any]:
    response = admin.patch("/zoompac/settings", json=changes)
    assert response.status_code == 200, response.text
    current: dict[str, Any] = response.json()
    return current


def send_route(
    client: httpx.Client, method: str, path: str, body: Any, **kwargs: Any
) -> httpx.Response:
    if body is None:
        return client.request(method, path, **kwargs)
    return client.request(method, path, json=body, **kwargs)


def authorization_code(api: httpx.Client, state: str = "opaque-state") -> str:
    """Request an authorization code for the user app, which `auto_approve_user` must allow."""
    response = api.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": USER_APP,
            "redirect_uri": REDIRECT_URI,
            "state": state,
        },
    )
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- admin token --------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
def test_route_without_token(api: httpx.Client, method: str, path: str, body: Any) -> None:
    assert_zoom_error(send_route(api, method, path, body), 401, BAD_ADMIN_TOKEN)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
def test_route_wrong_token(api: httpx.Client, method: str, path: str, body: Any) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}x"}
    response = send_route(api, method, path, body, headers=headers)

    assert_zoom_error(response, 401, BAD_ADMIN_TOKEN)


@pytest.mark.parametrize(
    "authorization",
    [f"Basic {ADMIN_TOKEN}", ADMIN_TOKEN, f"Bearer  {ADMIN_TOKEN}", f"Bearer {ADMIN_TOKEN[:-1]}"],
    ids=["basic-scheme", "no-scheme", "two-spaces", "truncated"],
)
def test_malformed_admin_header(api: httpx.Client, authorization: str) -> None:
    response = api.get("/zoompac/clock", headers={"Authorization": authorization})

    assert_zoom_error(response, 401, BAD_ADMIN_TOKEN)


def test_api_token_not_admin(admin: httpx.Client, api: httpx.Client) -> None:
    token = mint_token(api)

    assert_zoom_error(api.get("/zoompac/clock", headers=bearer(token)), 401, BAD_ADMIN_TOKEN)


def test_wrong_token_changes_nothing(admin: httpx.Client, api: httpx.Client) -> None:
    wrong = {"Authorization": "Bearer wrong"}
    api.get(PAC_PATH)
    before = state(admin)

    for method, path, body in ROUTES:
        send_route(api, method, path, body, headers=wrong)

    assert faults(admin) == []
    assert clock(admin)["frozen"] is False
    assert settings(admin) == STARTUP_SETTINGS
    assert state(admin) == before
    assert [entry["path"] for entry in journal(admin)] == [PAC_PATH]


def test_off_on_wildcard_host(start_server: ServerFactory) -> None:
    server = start_server("--host", "0.0.0.0", env=ADMIN_ENV)

    with api_client(server) as client:
        for method, path, body in ROUTES:
            response = send_route(client, method, path, body, headers=ADMIN)
            assert response.status_code == 404, f"{method} {path}"
            assert response.json() == ROUTE_NOT_RECOGNIZED, f"{method} {path}"


def test_flag_on_wildcard_host(start_server: ServerFactory) -> None:
    server = start_server("--host", "0.0.0.0", "--control-plane", env=ADMIN_ENV)

    with api_client(server) as client:
        assert client.get("/zoompac/clock", headers=ADMIN).status_code == 200
        assert_zoom_error(client.get("/zoompac/clock"), 401, BAD_ADMIN_TOKEN)


def test_flag_off_on_loopback(start_server: ServerFactory) -> None:
    server = start_server("--no-control-plane", env=ADMIN_ENV)

    with api_client(server) as client:
        assert_zoom_error(client.get("/zoompac/clock", headers=ADMIN), 404, ROUTE_NOT_RECOGNIZED)


def test_admin_token_file(start_server: ServerFactory, tmp_path: Path) -> None:
    token_file = tmp_path / "admin-token.txt"
    token_file.write_text("token-from-file-5Hx\n", encoding="utf-8")

    server = start_server("--admin-token-file", str(token_file), env=ADMIN_ENV)

    with api_client(server) as client:
        file_token = {"Authorization": "Bearer token-from-file-5Hx"}
        assert client.get("/zoompac/clock", headers=file_token).status_code == 200
        assert_zoom_error(client.get("/zoompac/clock", headers=ADMIN), 401, BAD_ADMIN_TOKEN)


def test_generated_admin_token(start_server: ServerFactory, tmp_path: Path) -> None:
    data_home = tmp_path / "xdg-data"
    env = {"XDG_DATA_HOME": str(data_home)}
    assert "ZOOMPAC_ADMIN_TOKEN" not in os.environ

    server = start_server(env=env)
    token_path = data_home / "zoompac" / "admin-token"
    token = token_path.read_text(encoding="utf-8").strip()

    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600
    assert len(token) >= 32
    assert f"(admin token in {token_path})" in server.log()
    assert token not in server.log()
    with api_client(server) as client:
        response = client.get("/zoompac/clock", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200


def test_generated_token_file_private(start_server: ServerFactory, tmp_path: Path) -> None:
    """A token file left readable by others from an earlier start becomes private again."""
    data_home = tmp_path / "xdg-data"
    token_path = data_home / "zoompac" / "admin-token"
    token_path.parent.mkdir(parents=True)
    token_path.write_text("old-token\n", encoding="utf-8")
    token_path.chmod(0o644)

    start_server(env={"XDG_DATA_HOME": str(data_home)})

    assert token_path.read_text(encoding="utf-8") != "old-token\n"
    assert stat.S_IMODE(token_path.stat().st_mode) == 0o600


# --- reset --------------------------------------------------------------------------------------


def test_reset_restores_everything(admin: httpx.Client, api: httpx.Client) -> None:
    before = state(admin)
    token = mint_token(api)
    admin.patch(f"/zoompac/users/{PAC_USER}", json={"pac_enabled": False})
    add_fault(admin, path="/v2/users", status=500)
    clock(admin, freeze=True, at="2031-01-01T00:00:00Z")
    patch_settings(admin, token_lifetime=60, conference_id_format="integer")
    api.get(PAC_PATH, headers=bearer(token))

    response = admin.post("/zoompac/reset", json={"to": "fixture"})

    assert response.status_code == 200
    assert response.json() == {"reset_to": "fixture"}
    assert state(admin) == before
    assert faults(admin) == []
    assert clock(admin)["frozen"] is False
    assert settings(admin) == STARTUP_SETTINGS
    assert journal(admin) == []
    assert_zoom_error(api.get(PAC_PATH, headers=bearer(token)), 401, INVALID_TOKEN)
    assert api.get(PAC_PATH, headers=bearer(mint_token(api))).json() == SEED_BODY


def test_reset_default_target(admin: httpx.Client) -> None:
    response = admin.post("/zoompac/reset")

    assert response.status_code == 200
    assert response.json() == {"reset_to": "fixture"}


def test_reset_unknown_target(admin: httpx.Client) -> None:
    response = admin.post("/zoompac/reset", json={"to": "yesterday"})

    assert_zoom_error(
        response,
        400,
        {"code": 400, "message": "Invalid reset target 'yesterday': expected fixture or empty."},
    )


def test_reset_to_empty(own_admin: httpx.Client) -> None:
    response = own_admin.post("/zoompac/reset", json={"to": "empty"})

    assert response.status_code == 200
    assert response.json() == {"reset_to": "empty"}
    assert state(own_admin) == EMPTY_STATE
    assert mint(own_admin).json() == {
        "reason": "Invalid client_id or client_secret",
        "error": "invalid_client",
    }


def test_reset_after_empty(own_admin: httpx.Client) -> None:
    """A reset to empty forgets the fixtures, so the next reset to fixture stays empty."""
    own_admin.post("/zoompac/reset", json={"to": "empty"})

    own_admin.post("/zoompac/reset", json={"to": "fixture"})

    assert state(own_admin) == EMPTY_STATE


def test_reset_keeps_loaded_fixture(own_admin: httpx.Client) -> None:
    own_admin.post("/zoompac/load", content=LOADED_YAML)
    loaded = state(own_admin)

    own_admin.post("/zoompac/reset", json={"to": "fixture"})

    assert state(own_admin) == loaded


GENERATED_YAML = """\
accounts:
  - id: generated-account
    users:
      - email: generated.user@example.com
        pac_accounts: [{}]
"""


def generated_user(admin: httpx.Client) -> dict[str, Any]:
    """Return the user of `GENERATED_YAML` as stored, with its generated values."""
    accounts = {account["id"]: account for account in state(admin)["accounts"]}
    user: dict[str, Any] = accounts["generated-account"]["users"][0]
    return user


def test_reset_keeps_generated_values(own_admin: httpx.Client) -> None:
    """Ids, conference ids and passwords generated by a load come back unchanged."""
    own_admin.post("/zoompac/load", content=GENERATED_YAML)
    loaded = generated_user(own_admin)

    own_admin.post("/zoompac/reset", json={"to": "fixture"})
    restored = generated_user(own_admin)

    assert restored["id"] == loaded["id"]
    assert restored["pac_accounts"] == loaded["pac_accounts"]


def test_reset_after_replace(own_admin: httpx.Client) -> None:
    own_admin.post("/zoompac/load", content=LOADED_YAML)
    replacement = LOADED_YAML.replace("loaded.user@", "replaced.user@")
    own_admin.post("/zoompac/load", params={"replace": "true"}, content=replacement)
    replaced = state(own_admin)

    response = own_admin.post("/zoompac/reset", json={"to": "fixture"})

    assert response.status_code == 200, response.text
    assert state(own_admin) == replaced


# --- load ---------------------------------------------------------------------------------------


def test_load_json(own_admin: httpx.Client) -> None:
    response = own_admin.post("/zoompac/load", json=LOADED_DOCUMENT)

    assert response.status_code == 200
    assert response.json() == {"loaded": True, "accounts": 1}
    token = mint_token(own_admin, "loaded-admin", "loaded-secret", "loaded-account")
    pac = own_admin.get("/v2/users/loaded.user@example.com/pac", headers=bearer(token))
    assert pac.json() == LOADED_PAC_BODY


def test_load_yaml(own_admin: httpx.Client) -> None:
    response = own_admin.post(
        "/zoompac/load", content=LOADED_YAML, headers={"Content-Type": "application/yaml"}
    )

    assert response.status_code == 200
    assert response.json() == {"loaded": True, "accounts": 1}
    token = mint_token(own_admin, "loaded-admin", "loaded-secret", "loaded-account")
    pac = own_admin.get("/v2/users/loaded.user@example.com/pac", headers=bearer(token))
    assert pac.json() == LOADED_PAC_BODY


def test_load_bad_entry(own_admin: httpx.Client) -> None:
    before = state(own_admin)
    document = {
        "accounts": [
            LOADED_DOCUMENT["accounts"][0],
            {
                "id": "second-account",
                "users": [
                    {"email": "twice@example.com"},
                    {"email": "Twice@example.com"},
                ],
            },
        ]
    }

    response = own_admin.post("/zoompac/load", json=document)

    message = (
        "Cannot load the fixture: accounts[1].users[1].email: e-mail 'twice@example.com' "
        "appears more than once in the document. Nothing was loaded."
    )
    assert_zoom_error(response, 400, {"code": 400, "message": message})
    assert state(own_admin) == before


def test_load_invalid_value(own_admin: httpx.Client) -> None:
    before = state(own_admin)
    document = {"accounts": [{"id": "bad-account", "users": [{"email": "not-an-address"}]}]}

    response = own_admin.post("/zoompac/load", json=document)

    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "Cannot load the fixture: accounts[0].users[0].email: "
    )
    assert response.json()["message"].endswith(" Nothing was loaded.")
    assert state(own_admin) == before


def test_load_existing_account(own_admin: httpx.Client) -> None:
    own_admin.post("/zoompac/load", content=LOADED_YAML)
    loaded = state(own_admin)

    response = own_admin.post("/zoompac/load", content=LOADED_YAML)

    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "Cannot load the fixture: accounts[0].id: account 'loaded-account' already exists"
    )
    assert state(own_admin) == loaded


def test_load_not_yaml(own_admin: httpx.Client) -> None:
    before = state(own_admin)

    response = own_admin.post("/zoompac/load", content="accounts: [unclosed")

    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "Cannot load the fixture: the document is not valid YAML"
    )
    assert state(own_admin) == before


def test_failed_load_not_restored(own_admin: httpx.Client) -> None:
    """A rejected fixture does not become part of what a reset restores."""
    before = state(own_admin)
    document = {"accounts": [{"id": "bad-account", "users": [{"email": "not-an-address"}]}]}
    own_admin.post("/zoompac/load", json=document)

    own_admin.post("/zoompac/reset", json={"to": "fixture"})

    assert state(own_admin) == before


def test_load_replace(own_admin: httpx.Client) -> None:
    own_admin.post("/zoompac/load", content=LOADED_YAML)
    replacement = (
        LOADED_YAML.replace("loaded-secret", "replaced-secret")
        .replace("loadedUser000000000001", "replacedUser0000000001")
        .replace("loaded.user@", "replaced.user@")
    )

    response = own_admin.post("/zoompac/load", params={"replace": "true"}, content=replacement)

    assert response.status_code == 200
    assert response.json() == {"loaded": True, "accounts": 1}
    account = next(a for a in state(own_admin)["accounts"] if a["id"] == "loaded-account")
    assert [user["id"] for user in account["users"]] == ["replacedUser0000000001"]
    assert mint(own_admin, "loaded-admin", "loaded-secret", "loaded-account").status_code == 400
    assert mint(own_admin, "loaded-admin", "replaced-secret", "loaded-account").status_code == 200


# --- state --------------------------------------------------------------------------------------


def test_state_json(admin: httpx.Client) -> None:
    response = admin.get("/zoompac/state")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert [account["id"] for account in response.json()["accounts"]] == [
        CONTROL_ACCOUNT,
        "demo-account",
    ]
    assert "demo-secret" not in response.text
    assert CONTROL_ADMIN_SECRET not in response.text


def test_state_json_loads_back(own_admin: httpx.Client) -> None:
    dumped = own_admin.get("/zoompac/state").json()
    own_admin.post("/zoompac/reset", json={"to": "empty"})

    response = own_admin.post("/zoompac/load", json=dumped)

    assert response.status_code == 200, response.text
    assert state(own_admin) == dumped
    assert mint(own_admin).status_code == 200


def test_state_yaml(admin: httpx.Client) -> None:
    response = admin.get("/zoompac/state", params={"format": "yaml"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(response.text) == state(admin)


def test_state_yaml_loads_back(own_admin: httpx.Client) -> None:
    dumped = own_admin.get("/zoompac/state").json()
    text = own_admin.get("/zoompac/state", params={"format": "yaml"}).text
    own_admin.post("/zoompac/reset", json={"to": "empty"})

    response = own_admin.post("/zoompac/load", content=text)

    assert response.status_code == 200, response.text
    assert state(own_admin) == dumped
    assert mint(own_admin).status_code == 200


# --- journal ------------------------------------------------------------------------------------


def test_journal_entry_fields(admin: httpx.Client, api: httpx.Client) -> None:
    clock(admin, freeze=True, at="2031-05-06T07:08:09Z")
    minted = mint(api)
    called = api.get(PAC_PATH, headers=bearer(minted.json()["access_token"]))

    token_entry, pac_entry = journal(admin)

    assert list(token_entry) == JOURNAL_KEYS
    assert token_entry["time"] == "2031-05-06T07:08:09Z"
    assert token_entry["method"] == "POST"
    assert token_entry["path"] == "/oauth/token"
    assert token_entry["query"] == ""
    assert token_entry["status"] == 200
    assert token_entry["zoom_code"] is None
    assert token_entry["oauth_error"] is None
    assert token_entry["client_id"] == "demo-client"
    assert token_entry["user_id"] is None
    assert token_entry["tracking_id"] == minted.headers["x-zm-trackingid"]
    assert pac_entry["method"] == "GET"
    assert pac_entry["path"] == PAC_PATH
    assert pac_entry["status"] == 200
    assert pac_entry["client_id"] == "demo-client"
    assert pac_entry["tracking_id"] == called.headers["x-zm-trackingid"]
    assert TRACKING_ID.fullmatch(pac_entry["tracking_id"])
    assert isinstance(pac_entry["duration_ms"], float)
    assert pac_entry["duration_ms"] > 0


def test_journal_error_fields(admin: httpx.Client, api: httpx.Client) -> None:
    api.get(PAC_PATH, params={"page_size": "5"})
    mint(api, "demo-client", "wrong-secret")
    api.get("/v2/no/such/route")

    unauthorised, bad_client, unknown_route = journal(admin)

    assert unauthorised["query"] == "page_size=5"
    assert unauthorised["status"] == 401
    assert unauthorised["zoom_code"] == 124
    assert unauthorised["oauth_error"] is None
    assert unauthorised["client_id"] is None
    assert bad_client["status"] == 400
    assert bad_client["zoom_code"] is None
    assert bad_client["oauth_error"] == "invalid_client"
    assert bad_client["client_id"] is None
    assert unknown_route["status"] == 404
    assert unknown_route["zoom_code"] == 2300


def test_journal_user_id(admin: httpx.Client, api: httpx.Client) -> None:
    patch_settings(admin, auto_approve_user=CONTROL_USER)
    code = authorization_code(api)
    tokens = api.post(
        "/oauth/token",
        auth=(USER_APP, USER_APP_SECRET),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
    ).json()

    response = api.get("/v2/users/me/pac", headers=bearer(tokens["access_token"]))

    assert response.status_code == 200
    entry = journal(admin, path="/v2/users/me/pac")[0]
    assert entry["user_id"] == CONTROL_USER_ID
    assert entry["client_id"] == USER_APP


def test_journal_filters(admin: httpx.Client, api: httpx.Client) -> None:
    clock(admin, freeze=True, at="2031-01-01T00:00:00Z")
    first = api.get(PAC_PATH).headers["x-zm-trackingid"]
    clock(admin, at="2031-01-01T00:01:00Z")
    minted = mint(api)
    second = minted.headers["x-zm-trackingid"]
    third = api.get(PAC_PATH, headers=bearer(minted.json()["access_token"]))
    third_id = third.headers["x-zm-trackingid"]

    def tracking_ids(**params: str) -> list[str]:
        return [entry["tracking_id"] for entry in journal(admin, **params)]

    assert tracking_ids() == [first, second, third_id]
    assert tracking_ids(path="/oauth") == [second]
    assert tracking_ids(path="/v2/users/") == [first, third_id]
    assert tracking_ids(status="401") == [first]
    assert tracking_ids(status="200", path="/v2/") == [third_id]
    assert tracking_ids(since="2031-01-01T00:01:00Z") == [second, third_id]
    assert tracking_ids(until="2031-01-01T00:00:30Z") == [first]
    assert tracking_ids(since="2031-01-01T00:00:30+00:00", until="2031-01-01T00:01:00Z") == [
        second,
        third_id,
    ]
    assert tracking_ids(limit="1") == [third_id]
    assert tracking_ids(limit="2", path="/v2/") == [first, third_id]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "ok"}, "Invalid status 'ok': expected a whole number of 0 or more."),
        ({"limit": "-1"}, "Invalid limit '-1': expected a whole number of 0 or more."),
        (
            {"since": "yesterday"},
            "Invalid since 'yesterday': expected an ISO-8601 time such as 2026-01-01T00:00:00Z.",
        ),
        (
            {"until": "2031-01-01T00:00:00"},
            "Invalid until '2031-01-01T00:00:00': give a time zone, for example Z.",
        ),
    ],
    ids=["status", "limit", "since", "naive-until"],
)
def test_journal_bad_filter(admin: httpx.Client, params: dict[str, str], message: str) -> None:
    response = admin.get("/zoompac/journal", params=params)

    assert_zoom_error(response, 400, {"code": 400, "message": message})


def test_journal_delete(admin: httpx.Client, api: httpx.Client) -> None:
    api.get(PAC_PATH)

    response = admin.delete("/zoompac/journal")

    assert response.status_code == 204
    assert response.content == b""
    assert journal(admin) == []


def test_journal_skips_control_plane(admin: httpx.Client, api: httpx.Client) -> None:
    for method, path, body in ROUTES[2:]:
        send_route(admin, method, path, body)
    admin.post("/zoompac/clock", json={"freeze": False})
    api.get("/zoompac/clock")
    admin.get("/zoompac/no-such-route")
    api.get(PAC_PATH)

    assert [entry["path"] for entry in journal(admin)] == [PAC_PATH]


def test_journal_redacts_secrets(
    server: ServerProcess, admin: httpx.Client, api: httpx.Client
) -> None:
    demo_token = mint_token(api)
    control_token_response = api.post(
        "/oauth/token",
        auth=(CONTROL_ADMIN, CONTROL_ADMIN_SECRET),
        params={
            "grant_type": "account_credentials",
            "account_id": CONTROL_ACCOUNT,
            "client_secret": CONTROL_ADMIN_SECRET,
        },
    )
    control_token = control_token_response.json()["access_token"]
    api.get("/v2/users/me/pac", params={"access_token": demo_token})
    api.get(f"/v2/users/{CONTROL_USER}/pac", params={"access_token": control_token})
    pac = api.get(f"/v2/users/{CONTROL_USER}/pac", headers=bearer(control_token))
    patch_settings(admin, auto_approve_user=CONTROL_USER)
    code = authorization_code(api, state="state-secret-8Jd")
    user_tokens = api.post(
        "/oauth/token",
        auth=(USER_APP, USER_APP_SECRET),
        params={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
    ).json()
    api.get("/v2/users/me/pac", headers=bearer(user_tokens["access_token"]))
    refreshed = api.post(
        "/oauth/token",
        auth=(USER_APP, USER_APP_SECRET),
        params={
            "grant_type": "refresh_token",
            "refresh_token": user_tokens["refresh_token"],
            "client_secret": USER_APP_SECRET,
        },
    ).json()
    secret_values = {
        "demo token": demo_token,
        "control token": control_token,
        "user token": user_tokens["access_token"],
        "refresh token": user_tokens["refresh_token"],
        "refreshed token": refreshed["access_token"],
        "second refresh token": refreshed["refresh_token"],
        "authorization code": code,
        "state": "state-secret-8Jd",
        "control client secret": CONTROL_ADMIN_SECRET,
        "user app secret": USER_APP_SECRET,
        "admin token": ADMIN_TOKEN,
        **{f"PAC password {value}": value for value in CONTROL_PASSWORDS},
    }
    # The demo secret is public, and the start-up banner prints it, so only the journal is
    # searched for it.
    demo_secret = "demo-secret"

    text = admin.get("/zoompac/journal").text
    log = server.log()

    assert pac.json()["pac_accounts"][0]["participant_password"] == CONTROL_PASSWORDS[0]
    assert text.count("%5Bredacted%5D") == 7
    assert demo_secret not in text
    assert quote(demo_secret) not in text
    for name, value in secret_values.items():
        assert value not in text, f"the journal contains the {name}"
        assert quote(value, safe="") not in text, f"the journal contains the {name}"
        assert value not in log, f"the server log contains the {name}"


# --- faults -------------------------------------------------------------------------------------


def test_fault_on_route(admin: httpx.Client, api: httpx.Client) -> None:
    token = mint_token(api)
    body = {"code": 503, "message": "Service down for a test."}

    created = admin.post(
        "/zoompac/faults", json={"path": "/v2/users/{userId}/pac", "status": 503, "body": body}
    )

    assert created.status_code == 201
    assert list(created.json()) == FAULT_KEYS
    assert created.json() | {"id": "?"} == {
        "id": "?",
        "method": None,
        "path": "/v2/users/{userId}/pac",
        "status": 503,
        "body": body,
        "headers": {},
        "latency_ms": 0,
        "drop": False,
        "times": None,
        "probability": 1.0,
        "matched": 0,
    }
    assert_zoom_error(api.get(PAC_PATH, headers=bearer(token)), 503, body)
    assert_zoom_error(api.get(f"/v2/users/{CONTROL_USER}/pac"), 503, body)
    assert api.get(f"/v2/users/{PAC_USER}", headers=bearer(token)).status_code != 503
    assert api.get(f"{PAC_PATH}/extra", headers=bearer(token)).status_code == 404
    assert mint(api).status_code == 200
    assert faults(admin)[0]["matched"] == 2


def test_fault_default_body(admin: httpx.Client, api: httpx.Client) -> None:
    add_fault(admin, path="/v2/users/{userId}/pac", status=502)

    assert_zoom_error(api.get(PAC_PATH), 502, {"code": 502, "message": "Injected fault."})


def test_fault_headers(admin: httpx.Client, api: httpx.Client) -> None:
    add_fault(admin, path="/v2/users/{userId}/pac", status=429, headers={"Retry-After": "7"})

    response = api.get(PAC_PATH)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"


def test_fault_method(admin: httpx.Client, api: httpx.Client) -> None:
    fault = add_fault(admin, method="post", status=500)

    assert fault["method"] == "POST"
    assert mint(api).status_code == 500
    assert api.get(PAC_PATH).status_code == 401


def test_fault_all_routes(admin: httpx.Client, api: httpx.Client) -> None:
    body = {"code": 500, "message": "Everything is down."}
    add_fault(admin, status=500, body=body)

    assert_zoom_error(mint(api), 500, body)
    assert_zoom_error(api.get(PAC_PATH), 500, body)
    assert_zoom_error(api.get("/v2/users"), 500, body)
    assert_zoom_error(api.get("/v2/no/such/route"), 500, body)


def test_fault_times(admin: httpx.Client, api: httpx.Client) -> None:
    token = mint_token(api)
    add_fault(admin, path="/v2/users/{userId}/pac", status=503, times=2)

    first = api.get(PAC_PATH, headers=bearer(token))
    remaining = faults(admin)
    second = api.get(PAC_PATH, headers=bearer(token))
    third = api.get(PAC_PATH, headers=bearer(token))

    assert first.status_code == 503
    assert remaining[0]["times"] == 1
    assert remaining[0]["matched"] == 1
    assert second.status_code == 503
    assert third.status_code == 200
    assert third.json() == SEED_BODY
    assert faults(admin) == []


def run_probability_fault(admin: httpx.Client, api: httpx.Client) -> tuple[list[int], int]:
    """Reset, add a fault that fires for a quarter of the requests, and send 200 of them."""
    admin.post("/zoompac/reset", json={"to": "fixture"})
    token = mint_token(api)
    add_fault(admin, path="/v2/users/{userId}/pac", status=503, probability=0.25)
    statuses = [api.get(PAC_PATH, headers=bearer(token)).status_code for _ in range(200)]
    return statuses, faults(admin)[0]["matched"]


def test_fault_probability(admin: httpx.Client, api: httpx.Client) -> None:
    statuses, matched = run_probability_fault(admin, api)
    repeated, _ = run_probability_fault(admin, api)

    assert set(statuses) == {200, 503}
    assert 30 <= statuses.count(503) <= 70
    assert matched == statuses.count(503)
    assert repeated == statuses


def test_fault_latency(admin: httpx.Client, api: httpx.Client) -> None:
    token = mint_token(api)
    add_fault(admin, path="/v2/users/{userId}/pac", latency_ms=250, times=1)

    response = api.get(PAC_PATH, headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == SEED_BODY
    assert journal(admin, path=PAC_PATH)[0]["duration_ms"] >= 250


def test_fault_drop(admin: httpx.Client, api: httpx.Client) -> None:
    token = mint_token(api)
    add_fault(admin, path="/v2/users/{userId}/pac", drop=True, times=1)

    with pytest.raises(httpx.TransportError):
        api.get(PAC_PATH, headers=bearer(token))
    after = api.get(PAC_PATH, headers=bearer(token))

    assert after.status_code == 200
    assert after.json() == SEED_BODY
    assert [entry["status"] for entry in journal(admin, path=PAC_PATH)] == [0, 200]


def test_fault_list_and_delete(admin: httpx.Client) -> None:
    first = add_fault(admin, path="/oauth/token", status=500)
    second = add_fault(admin, drop=True, probability=0.5)

    listed = faults(admin)
    deleted = admin.delete(f"/zoompac/faults/{first['id']}")
    deleted_again = admin.delete(f"/zoompac/faults/{first['id']}")

    assert listed == [first, second]
    assert first["id"] != second["id"]
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert faults(admin) == [second]
    assert_zoom_error(
        deleted_again, 404, {"code": 404, "message": f"No fault has the id {first['id']!r}."}
    )


def test_fault_clear(admin: httpx.Client, api: httpx.Client) -> None:
    add_fault(admin, path="/oauth/token", status=500)
    add_fault(admin, status=503)

    response = admin.delete("/zoompac/faults")

    assert response.status_code == 204
    assert faults(admin) == []
    assert api.get(PAC_PATH).status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"path": "/oauth/token"}, "A fault needs a status, drop: true, or a latency_ms above 0."),
        ({"status": 99}, "Invalid value for status: Input should be greater than or equal to 200."),
        (
            {"status": 500, "probability": 1.5},
            "Invalid value for probability: Input should be less than or equal to 1.",
        ),
        (
            {"status": 500, "times": 0},
            "Invalid value for times: Input should be greater than or equal to 1.",
        ),
        (
            {"status": 500, "colour": "red"},
            "Invalid value for colour: Extra inputs are not permitted.",
        ),
        ([{"status": 500}], "The request body must be a JSON object."),
    ],
    ids=["no-effect", "status", "probability", "times", "unknown-field", "array"],
)
def test_fault_invalid(admin: httpx.Client, body: Any, message: str) -> None:
    response = admin.post("/zoompac/faults", json=body)

    assert_zoom_error(response, 400, {"code": 400, "message": message})
    assert faults(admin) == []


def test_fault_not_json(admin: httpx.Client) -> None:
    response = admin.post("/zoompac/faults", content=b"status=500")

    assert response.status_code == 400
    assert response.json()["message"].startswith("The request body is not valid JSON: ")
    assert faults(admin) == []


def test_control_plane_not_faulted(admin: httpx.Client, api: httpx.Client) -> None:
    add_fault(admin, drop=True)
    add_fault(admin, status=500)

    for method, path, body in ROUTES[2:9]:
        response = send_route(admin, method, path, body)
        assert response.status_code < 500, f"{method} {path}"
    assert faults(admin) == []
    add_fault(admin, drop=True)
    assert clock(admin)["frozen"] is False
    assert faults(admin)[0]["matched"] == 0
    with pytest.raises(httpx.TransportError):
        api.get(PAC_PATH)


# --- clock --------------------------------------------------------------------------------------


def test_clock_read(admin: httpx.Client) -> None:
    current = clock(admin)

    assert list(current) == ["now", "frozen"]
    assert current["now"].endswith("Z")
    assert parse_time(current["now"]).utcoffset() is not None
    assert current["frozen"] is False


def test_clock_freeze(admin: httpx.Client) -> None:
    frozen = clock(admin, freeze=True)

    assert frozen["frozen"] is True
    assert clock(admin) == frozen
    assert clock(admin) == frozen


def test_clock_freeze_at(admin: httpx.Client) -> None:
    frozen = clock(admin, freeze=True, at="2031-02-03T04:05:06Z")

    assert frozen == {"now": "2031-02-03T04:05:06Z", "frozen": True}
    assert clock(admin) == frozen


def test_clock_jump_frozen(admin: httpx.Client) -> None:
    clock(admin, freeze=True, at="2031-02-03T04:05:06Z")

    jumped = clock(admin, at="2032-12-31T23:59:59+00:00")

    assert jumped == {"now": "2032-12-31T23:59:59Z", "frozen": True}


def test_clock_jump_running(admin: httpx.Client) -> None:
    jumped = clock(admin, at="2033-06-01T12:00:00Z")
    later = clock(admin)

    assert jumped["frozen"] is False
    assert parse_time(jumped["now"]) >= parse_time("2033-06-01T12:00:00Z")
    assert parse_time(later["now"]) > parse_time(jumped["now"])


def test_clock_advance_frozen(admin: httpx.Client) -> None:
    clock(admin, freeze=True, at="2031-02-03T04:05:06Z")

    advanced = clock(admin, advance_seconds=90.5)

    assert advanced == {"now": "2031-02-03T04:06:36.500000Z", "frozen": True}


def test_clock_unfreeze(admin: httpx.Client) -> None:
    clock(admin, freeze=True, at="2031-02-03T04:05:06Z")

    running = clock(admin, freeze=False)
    later = clock(admin)

    assert running["frozen"] is False
    assert parse_time(running["now"]) >= parse_time("2031-02-03T04:05:06Z")
    assert parse_time(later["now"]) > parse_time(running["now"])
    assert parse_time(later["now"]).year == 2031


def test_clock_expires_token(admin: httpx.Client, api: httpx.Client) -> None:
    token = mint_token(api)
    before = api.get(PAC_PATH, headers=bearer(token))

    clock(admin, advance_seconds=3601)

    assert before.status_code == 200
    assert_zoom_error(api.get(PAC_PATH, headers=bearer(token)), 401, EXPIRED_TOKEN)


def test_clock_expiry_boundary(admin: httpx.Client, api: httpx.Client) -> None:
    clock(admin, freeze=True, at="2031-02-03T04:05:06Z")
    token = mint_token(api)

    clock(admin, advance_seconds=3599)
    last_second = api.get(PAC_PATH, headers=bearer(token))
    clock(admin, advance_seconds=2)

    assert last_second.status_code == 200
    assert_zoom_error(api.get(PAC_PATH, headers=bearer(token)), 401, EXPIRED_TOKEN)


def test_clock_rejects_naive_time(admin: httpx.Client) -> None:
    before = clock(admin, freeze=True, at="2031-02-03T04:05:06Z")

    response = admin.post("/zoompac/clock", json={"at": "2031-01-01T00:00:00"})

    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert clock(admin) == before


def test_clock_unknown_field(admin: httpx.Client) -> None:
    response = admin.post("/zoompac/clock", json={"speed": 2})

    assert_zoom_error(
        response,
        400,
        {"code": 400, "message": "Invalid value for speed: Extra inputs are not permitted."},
    )


# --- settings -----------------------------------------------------------------------------------


def test_settings_read(admin: httpx.Client) -> None:
    assert settings(admin) == STARTUP_SETTINGS


def test_token_lifetime_setting(admin: httpx.Client, api: httpx.Client) -> None:
    changed = patch_settings(admin, token_lifetime=120)
    clock(admin, freeze=True, at="2031-02-03T04:05:06Z")
    minted = mint(api).json()
    token = minted["access_token"]

    clock(admin, advance_seconds=121)

    assert changed == STARTUP_SETTINGS | {"token_lifetime": 120}
    assert minted["expires_in"] == 120
    assert_zoom_error(api.get(PAC_PATH, headers=bearer(token)), 401, EXPIRED_TOKEN)


def test_conference_id_format_setting(admin: httpx.Client, api: httpx.Client) -> None:
    token = mint_token(api)

    patch_settings(admin, conference_id_format="integer")

    pac_account = api.get(PAC_PATH, headers=bearer(token)).json()["pac_accounts"][0]
    assert pac_account["conference_id"] == 111111


def test_revoke_older_tokens_setting(admin: httpx.Client, api: httpx.Client) -> None:
    older = mint_token(api)
    kept = mint_token(api)
    assert api.get(PAC_PATH, headers=bearer(older)).status_code == 200

    patch_settings(admin, revoke_older_tokens=True)
    newest = mint_token(api)

    assert_zoom_error(api.get(PAC_PATH, headers=bearer(older)), 401, INVALID_TOKEN)
    assert_zoom_error(api.get(PAC_PATH, headers=bearer(kept)), 401, INVALID_TOKEN)
    assert api.get(PAC_PATH, headers=bearer(newest)).status_code == 200


def test_rate_limit_settings(admin: httpx.Client, api: httpx.Client) -> None:
    clock(admin, freeze=True, at="2031-02-03T04:05:06Z")
    token = mint_token(api)

    patch_settings(admin, rate_limits=True, rate_limit=["pro.light=1"])
    allowed = api.get(PAC_PATH, headers=bearer(token))
    limited = api.get(PAC_PATH, headers=bearer(token))
    patch_settings(admin, rate_limit=["pro.light=off"])
    unlimited_by_override = api.get(PAC_PATH, headers=bearer(token))
    patch_settings(admin, rate_limits=False, rate_limit=["pro.light=1"])
    unlimited_by_switch = api.get(PAC_PATH, headers=bearer(token))

    assert allowed.status_code == 200
    assert_zoom_error(limited, 429, PER_SECOND_LIMIT)
    assert limited.headers["x-ratelimit-limit"] == "1"
    assert unlimited_by_override.status_code == 200
    assert unlimited_by_switch.status_code == 200


def test_auto_approve_setting(admin: httpx.Client, api: httpx.Client) -> None:
    params = {"response_type": "code", "client_id": USER_APP, "redirect_uri": REDIRECT_URI}
    consent_page = api.get("/oauth/authorize", params=params)

    patch_settings(admin, auto_approve_user=CONTROL_USER)
    approved = api.get("/oauth/authorize", params=params)

    assert consent_page.status_code == 200
    assert consent_page.headers["content-type"].startswith("text/html")
    assert approved.status_code == 302
    assert approved.headers["location"].startswith(f"{REDIRECT_URI}?code=")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"port": 1},
            "Cannot change port at run time. Changeable settings: rate_limits, rate_limit, "
            "token_lifetime, revoke_older_tokens, conference_id_format, auto_approve_user.",
        ),
        (
            {"token_lifetime": 60, "seed": 3},
            "Cannot change seed at run time. Changeable settings: rate_limits, rate_limit, "
            "token_lifetime, revoke_older_tokens, conference_id_format, auto_approve_user.",
        ),
        (
            {"token_lifetime": 0},
            "Invalid value for token_lifetime: Input should be greater than or equal to 1.",
        ),
        (
            {"conference_id_format": "float", "token_lifetime": 60},
            "Invalid value for conference_id_format: Input should be 'string' or 'integer'.",
        ),
        (
            {"token_lifetime": 60, "rate_limit": ["pro.light=fast"]},
            "Invalid rate-limit override 'pro.light=fast': the value must be a whole number of "
            "at least 1, or off.",
        ),
        (
            {"revoke_older_tokens": "maybe"},
            "Invalid value for revoke_older_tokens: Input should be a valid boolean, unable to "
            "interpret input.",
        ),
    ],
    ids=["unknown", "unknown-with-valid", "lifetime", "format", "rate-limit", "boolean"],
)
def test_settings_rejected(
    admin: httpx.Client, api: httpx.Client, changes: dict[str, Any], message: str
) -> None:
    response = admin.patch("/zoompac/settings", json=changes)

    assert_zoom_error(response, 400, {"code": 400, "message": message})
    assert settings(admin) == STARTUP_SETTINGS
    assert mint(api).json()["expires_in"] == 3600


def test_settings_not_object(admin: httpx.Client) -> None:
    response = admin.patch("/zoompac/settings", json=["token_lifetime"])

    assert_zoom_error(
        response, 400, {"code": 400, "message": "The request body must be a JSON object."}
    )


# --- users --------------------------------------------------------------------------------------


def test_user_pac_toggle(admin: httpx.Client, api: httpx.Client) -> None:
    token = mint_token(api)

    turned_off = admin.patch(f"/zoompac/users/{PAC_USER}", json={"pac_enabled": False})
    while_off = api.get(PAC_PATH, headers=bearer(token))
    turned_on = admin.patch(f"/zoompac/users/{PAC_USER_ID}", json={"pac_enabled": True})
    while_on = api.get(PAC_PATH, headers=bearer(token))

    assert turned_off.status_code == 200
    assert turned_off.json() == {
        "id": PAC_USER_ID,
        "email": PAC_USER,
        "status": "active",
        "pac_enabled": False,
    }
    assert_zoom_error(while_off, 400, USER_PAC_DISABLED)
    assert turned_on.json()["pac_enabled"] is True
    assert while_on.json() == SEED_BODY


def test_user_status(admin: httpx.Client, api: httpx.Client) -> None:
    token = mint_token(api, CONTROL_ADMIN, CONTROL_ADMIN_SECRET, CONTROL_ACCOUNT)

    changed = admin.patch(f"/zoompac/users/{CONTROL_USER}", json={"status": "inactive"})
    user = api.get(f"/v2/users/{CONTROL_USER_ID}", headers=bearer(token))
    inactive = api.get("/v2/users", params={"status": "inactive"}, headers=bearer(token))

    assert changed.status_code == 200
    assert changed.json() == {
        "id": CONTROL_USER_ID,
        "email": CONTROL_USER,
        "status": "inactive",
        "pac_enabled": True,
    }
    assert user.json()["status"] == "inactive"
    assert [listed["id"] for listed in inactive.json()["users"]] == [CONTROL_USER_ID]


def test_user_unknown(admin: httpx.Client) -> None:
    response = admin.patch("/zoompac/users/nobody@example.com", json={"pac_enabled": False})

    message = (
        "User 'nobody@example.com' not found. Give the id or the e-mail address of a stored user."
    )
    assert_zoom_error(response, 404, {"code": 404, "message": message})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"status": "gone"},
            "Invalid value for status: Input should be 'active', 'inactive' or 'pending'.",
        ),
        ({"pac": True}, "Invalid value for pac: Extra inputs are not permitted."),
    ],
    ids=["status", "unknown-field"],
)
def test_user_invalid(admin: httpx.Client, body: dict[str, Any], message: str) -> None:
    before = state(admin)

    response = admin.patch(f"/zoompac/users/{PAC_USER}", json=body)

    assert_zoom_error(response, 400, {"code": 400, "message": message})
    assert state(admin) == before


# --- unknown control-plane routes ---------------------------------------------------------------


def test_unknown_control_route(admin: httpx.Client) -> None:
    response = admin.get("/zoompac/no-such-route")

    assert_zoom_error(response, 404, {"code": 404, "message": "Not Found"})


def test_wrong_control_method(admin: httpx.Client) -> None:
    response = admin.put("/zoompac/clock", json={})

    assert_zoom_error(response, 405, {"code": 405, "message": "Method Not Allowed"})
