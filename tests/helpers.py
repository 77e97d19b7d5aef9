"""Helpers shared by the HTTP contract tests: fixture loading, raw requests and envelope checks."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

FIXTURES_DIR = Path(__file__).parent / "fixtures"
CONTRACT_FIXTURE = FIXTURES_DIR / "contract.yaml"
CONTRACT_SECRET = "contract-secret"
CONTRACT_ACCOUNT = "contract-account"

TRACKING_ID = re.compile(r"v=2\.0;clid=us02;rid=WEB_[0-9a-f]{32}")
ROUTE_NOT_RECOGNIZED = {"code": 2300, "message": "This API endpoint is not recognized."}
INVALID_TOKEN = {"code": 124, "message": "Invalid access token."}
EXPIRED_TOKEN = {"code": 124, "message": "Access token is expired."}
MISSING_PAC_SCOPES = {
    "code": 4711,
    "message": "Invalid access token, does not contain scopes:[pac:read:admin, pac:read].",
}
MISSING_ADMIN_SCOPE = {
    "code": 4711,
    "message": "Invalid access token, does not contain scopes:[pac:read:admin].",
}
ACCOUNT_PAC_DISABLED = {"code": 200, "message": "Account does not enable PAC."}
USER_PAC_DISABLED = {"code": 2024, "message": "User does not have PAC enabled."}
USER_NOT_IN_ACCOUNT = {"code": 1010, "message": "User does not belong to this account."}

SEED_BODY = {
    "pac_accounts": [
        {
            "dedicated_dial_in_number": [{"number": "123343434", "country": "USA"}],
            "global_dial_in_numbers": [{"number": "434343434", "country": "USA"}],
            "conference_id": "111111",
            "participant_password": "ghdf",
            "listen_only_password": "hkgk",
        }
    ]
}
PAC_ACCOUNT_KEYS = [
    "dedicated_dial_in_number",
    "global_dial_in_numbers",
    "conference_id",
    "participant_password",
    "listen_only_password",
]


def user_not_found(user_ref: str) -> dict[str, Any]:
    return {"code": 1001, "message": f"User does not exist: {user_ref}."}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def load_fixture_file(database_url: str, path: Path) -> None:
    """Run `zoompac load` on `path` as a separate process, as a user would."""
    command = [sys.executable, "-m", "zoompac", "load", str(path), "--database", database_url]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"zoompac load failed:\n{result.stdout}{result.stderr}")


@dataclass(frozen=True)
class RawResponse:
    """A response read straight off the socket, with header names lower-cased."""

    status_code: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    port: int,
    target: bytes,
    *,
    method: bytes = b"GET",
    headers: dict[str, str] | None = None,
    extra_header_lines: bytes = b"",
    close: bool = False,
) -> RawResponse:
    """Send one HTTP/1.1 request whose request target goes on the wire byte for byte.

    httpx normalises paths (dot segments, percent-encoding of unsafe bytes), so the tests that
    depend on the exact bytes sent use this instead.

    The connection stays open, as with any HTTP/1.1 client, unless `close` adds
    `Connection: close`. The two take different routes through the server: a keep-alive PAC
    request gets its response from zoompac's HTTP protocol directly, a closing one from the
    ASGI app.
    """
    lines = [method + b" " + target + b" HTTP/1.1", f"Host: 127.0.0.1:{port}".encode()]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in (headers or {}).items()]
    if close:
        lines.append(b"Connection: close")
    request = b"\r\n".join(lines) + b"\r\n" + extra_header_lines + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        # The server may respond and close before it has read an oversized request.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(request)
        return read_response(connection)


def read_response(connection: socket.socket) -> RawResponse:
    """Read one response: up to its `content-length`, or until the server closes."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = _recv(connection)
        if not chunk:
            return parse_response(received)
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = parse_response(head + b"\r\n\r\n").headers.get("content-length")
    if length is None:
        return parse_response(received + _read_until_closed(connection))
    while len(body) < int(length):
        chunk = _recv(connection)
        if not chunk:
            break
        body += chunk
    return parse_response(head + b"\r\n\r\n" + body)


def _recv(connection: socket.socket) -> bytes:
    try:
        return connection.recv(65536)
    except ConnectionResetError:
        return b""


def _read_until_closed(connection: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def parse_response(received: bytes) -> RawResponse:
    head, separator, body = received.partition(b"\r\n\r\n")
    if not separator:
        raise AssertionError(f"Expected an HTTP response, but got {received[:200]!r}")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split(" ")[1]), headers, body)


def assert_zoom_error(
    response: httpx.Response | RawResponse, status_code: int, body: dict[str, Any]
) -> None:
    """Check Zoom's error envelope: status, the exact `{"code", "message"}` body and headers."""
    assert response.status_code == status_code
    assert response.json() == body
    assert response.headers["content-type"] == "application/json"
    assert TRACKING_ID.fullmatch(response.headers["x-zm-trackingid"])
