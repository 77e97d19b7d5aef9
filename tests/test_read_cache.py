"""A running server's cached responses follow every change to the data and the settings.

The server keeps users, grants and encoded PAC bodies in memory (`zoompac.storage.cache`,
`Runtime.pac_bodies`). Each test first reads a response so that it is cached, changes what the
response depends on from outside the request path, and reads again over both routes a PAC
request can take (see `test_http_routes.py`).
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import SEED_BODY, USER_PAC_DISABLED, bearer, raw_request, user_not_found
from tests.server import ServerProcess

ADMIN_TOKEN = secrets.token_urlsafe(24)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PAC_USER = "pac.user@example.com"
PAC_PATH = f"/v2/users/{PAC_USER}/pac".encode()


@pytest.fixture
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path_factory.mktemp("read-cache"),
        args=["--demo", "--no-rate-limits"],
        env={"ZOOMPAC_ADMIN_TOKEN": ADMIN_TOKEN},
    ).start()
    yield process
    process.stop()


def admin_cli(server: ServerProcess, *args: str) -> None:
    """Change the database from another process, as `zoompac admin` does for a user."""
    command = [sys.executable, "-m", "zoompac", "admin", *args, "--database", server.database_url]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def both_routes(
    server: ServerProcess, token: str, path: bytes = PAC_PATH
) -> list[tuple[int, object]]:
    headers = bearer(token)
    return [
        (response.status_code, response.json())
        for response in (
            raw_request(server.port, path, headers=headers),
            raw_request(server.port, path, headers=headers, close=True),
        )
    ]


def user_reader_token(server: ServerProcess) -> str:
    """Return a token that may also read users: the demo app's scope plus `user:read:admin`."""
    admin_cli(
        server, "app", "update", "demo-client", "--scope", "pac:read:admin",
        "--scope", "user:read:admin",
    )  # fmt: skip
    return server.token()


def user_id_of(server: ServerProcess, token: str, email: str) -> str:
    response = httpx.get(f"{server.base_url}/v2/users/{email}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def test_password_changed_elsewhere(server: ServerProcess) -> None:
    token = server.token()
    assert both_routes(server, token) == [(200, SEED_BODY)] * 2

    admin_cli(server, "pac", "update", PAC_USER, "111111", "--participant-password", "9999")

    changed = {"pac_accounts": [{**SEED_BODY["pac_accounts"][0], "participant_password": "9999"}]}
    assert both_routes(server, token) == [(200, changed)] * 2


def test_pac_setting_changed_elsewhere(server: ServerProcess) -> None:
    token = server.token()
    assert both_routes(server, token) == [(200, SEED_BODY)] * 2

    admin_cli(server, "user", "update", PAC_USER, "--no-pac")
    assert both_routes(server, token) == [(400, USER_PAC_DISABLED)] * 2

    admin_cli(server, "user", "update", PAC_USER, "--pac")
    assert both_routes(server, token) == [(200, SEED_BODY)] * 2


def test_conference_id_format_change(server: ServerProcess) -> None:
    token = server.token()
    assert both_routes(server, token) == [(200, SEED_BODY)] * 2

    with httpx.Client(base_url=server.base_url, headers=ADMIN) as admin:
        response = admin.patch("/zoompac/settings", json={"conference_id_format": "integer"})
        assert response.status_code == 200, response.text
        numeric = {"pac_accounts": [{**SEED_BODY["pac_accounts"][0], "conference_id": 111111}]}
        assert both_routes(server, token) == [(200, numeric)] * 2

        response = admin.patch("/zoompac/settings", json={"conference_id_format": "string"})
        assert response.status_code == 200, response.text
        assert both_routes(server, token) == [(200, SEED_BODY)] * 2


def test_app_deactivated_elsewhere(server: ServerProcess) -> None:
    token = server.token()
    assert both_routes(server, token) == [(200, SEED_BODY)] * 2

    admin_cli(server, "app", "update", "demo-client", "--inactive")

    statuses = [status for status, _ in both_routes(server, token)]
    assert statuses == [401, 401]


def test_email_changed_elsewhere(server: ServerProcess) -> None:
    token = server.token()
    assert both_routes(server, token) == [(200, SEED_BODY)] * 2

    admin_cli(server, "user", "update", PAC_USER, "--email", "Renamed.User@example.com")

    assert both_routes(server, token) == [(404, user_not_found(PAC_USER))] * 2
    renamed = b"/v2/users/renamed.USER@example.com/pac"
    assert both_routes(server, token, renamed) == [(200, SEED_BODY)] * 2


def test_user_deleted_elsewhere(server: ServerProcess) -> None:
    token = user_reader_token(server)
    user_id = user_id_of(server, token, PAC_USER)
    by_id = f"/v2/users/{user_id}/pac".encode()
    assert both_routes(server, token, by_id) == [(200, SEED_BODY)] * 2
    assert both_routes(server, token) == [(200, SEED_BODY)] * 2

    admin_cli(server, "user", "delete", PAC_USER)

    assert both_routes(server, token, by_id) == [(404, user_not_found(user_id))] * 2
    assert both_routes(server, token) == [(404, user_not_found(PAC_USER))] * 2


def test_settings_route_follows_the_pac_setting(server: ServerProcess) -> None:
    # The settings route reads the same cached user record as the PAC route.
    token = user_reader_token(server)
    settings = f"/v2/users/{PAC_USER}/settings".encode()
    enabled = {"audio_conferencing": {"personal_audio_conference": True}}
    assert both_routes(server, token) == [(200, SEED_BODY)] * 2
    assert both_routes(server, token, settings) == [(200, enabled)] * 2

    admin_cli(server, "user", "update", PAC_USER, "--no-pac")

    disabled = {"audio_conferencing": {"personal_audio_conference": False}}
    assert both_routes(server, token, settings) == [(200, disabled)] * 2
    assert both_routes(server, token) == [(400, USER_PAC_DISABLED)] * 2
