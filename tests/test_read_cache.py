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

from tests.helpers import SEED_BODY, USER_PAC_DISABLED, bearer, raw_request
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


def both_routes(server: ServerProcess, token: str) -> list[tuple[int, object]]:
    headers = bearer(token)
    return [
        (response.status_code, response.json())
        for response in (
            raw_request(server.port, PAC_PATH, headers=headers),
            raw_request(server.port, PAC_PATH, headers=headers, close=True),
        )
    ]


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
