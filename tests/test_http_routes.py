"""The two routes a PAC request can take through the server give the same responses.

zoompac's HTTP protocol responds to a keep-alive `GET /v2/users/{userId}/pac` itself, as soon as
the request is parsed (`zoompac.web.protocol`). A request with `Connection: close`, HTTP/1.0, a
body, or one pipelined behind a request still running goes through the ASGI app instead. These
tests send the same requests both ways over raw sockets, and check the connection handling of
the direct route: pipelining, request bodies and the keep-alive timeout.

The PostgreSQL pass runs them too, where every request takes the ASGI route.
"""

from __future__ import annotations

import base64
import secrets
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.helpers import (
    CONTRACT_ACCOUNT,
    CONTRACT_FIXTURE,
    CONTRACT_SECRET,
    RawResponse,
    load_fixture_file,
    parse_response,
    raw_request,
    read_response,
)
from tests.server import ServerProcess

ADMIN_TOKEN = secrets.token_urlsafe(24)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# Headers that differ on every response by design.
PER_RESPONSE = {"date", "x-zm-trackingid", "connection"}
# uvicorn's default, which `zoompac serve` keeps.
KEEP_ALIVE_SECONDS = 5

TokenFactory = Callable[..., str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with the contract data, the control plane, and rate limits on."""
    process = ServerProcess(
        tmp_path_factory.mktemp("http-routes"),
        args=["--demo", "--rate-limit", "pro.light=100000"],
        env={"ZOOMPAC_ADMIN_TOKEN": ADMIN_TOKEN},
    )
    load_fixture_file(process.database_url, CONTRACT_FIXTURE)
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def token(server: ServerProcess) -> TokenFactory:
    tokens: dict[str, str] = {}

    def mint(client_id: str, account_id: str = CONTRACT_ACCOUNT) -> str:
        if client_id not in tokens:
            tokens[client_id] = server.token(client_id, CONTRACT_SECRET, account_id)
        return tokens[client_id]

    return mint


CASES = [
    # (user reference as sent in the path, app whose token is sent, or a literal header value)
    ("plusUser000000000000001", "contract-admin"),
    ("A%2Bb@Example.com", "contract-admin"),
    ("multiPacUser0000000001", "contract-granular-admin"),
    ("slashUser0000000000001", "contract-admin"),
    ("me", "contract-admin"),
    ("me", "contract-user-scope"),
    ("plusUser000000000000001", "contract-user-scope"),
    ("plusUser000000000000001", "contract-other-scope"),
    ("nobody@example.com", "contract-admin"),
    ("otherUser0000000000001", "contract-admin"),
    ("noAudioUser00000000001", "no-audio-account-admin"),
    ("pacOffUser000000000001", "pac-off-account-admin"),
    ("%FF%FE", "contract-admin"),
    ("a%00b", "contract-admin"),
    ("plusUser000000000000001", "Bearer not-a-token"),
    ("plusUser000000000000001", "Basic Y29udHJhY3Q6c2VjcmV0"),
    ("plusUser000000000000001", ""),
]
ACCOUNTS = {
    "no-audio-account-admin": "no-audio-account",
    "pac-off-account-admin": "pac-off-account",
}


def authorization(token: TokenFactory, credential: str) -> dict[str, str]:
    if not credential:
        return {}
    if " " in credential:
        return {"Authorization": credential}
    return {
        "Authorization": f"Bearer {token(credential, ACCOUNTS.get(credential, CONTRACT_ACCOUNT))}"
    }


def comparable(response: RawResponse) -> tuple[int, dict[str, str], bytes]:
    headers = {name: value for name, value in response.headers.items() if name not in PER_RESPONSE}
    # The remaining count goes down by one with every request.
    headers.pop("x-ratelimit-remaining", None)
    return response.status_code, headers, response.body


@pytest.mark.parametrize(("user_ref", "credential"), CASES)
def test_both_routes_respond_alike(
    server: ServerProcess, token: TokenFactory, user_ref: str, credential: str
) -> None:
    target = f"/v2/users/{user_ref}/pac".encode()
    headers = authorization(token, credential)

    direct = raw_request(server.port, target, headers=headers)
    routed = raw_request(server.port, target, headers=headers, close=True)

    assert comparable(direct) == comparable(routed)
    assert direct.headers["content-type"] == "application/json"
    assert direct.headers["x-zm-trackingid"].startswith("v=2.0;clid=us02;rid=WEB_")
    assert "date" in direct.headers
    if credential.startswith("contract") and direct.status_code != 401:
        assert direct.headers["x-ratelimit-category"] == "Light"


def test_both_routes_journal_alike(server: ServerProcess, token: TokenFactory) -> None:
    path = "/v2/users/plusUser000000000000001/pac"
    headers = authorization(token, "contract-admin")
    with httpx.Client(base_url=server.base_url, headers=ADMIN) as admin:
        assert admin.delete("/zoompac/journal").status_code == 204
        direct = raw_request(server.port, path.encode(), headers=headers)
        routed = raw_request(server.port, path.encode(), headers=headers, close=True)
        entries = admin.get("/zoompac/journal").json()["requests"]

    assert [entry["tracking_id"] for entry in entries] == [
        direct.headers["x-zm-trackingid"],
        routed.headers["x-zm-trackingid"],
    ]
    varying = {"time", "duration_ms", "tracking_id"}
    first, second = ({k: v for k, v in e.items() if k not in varying} for e in entries)
    assert (
        first
        == second
        == {
            "method": "GET",
            "path": path,
            "query": "",
            "status": 200,
            "zoom_code": None,
            "oauth_error": None,
            "client_id": "contract-admin",
            "user_id": None,
        }
    )


def read_responses(connection: socket.socket, count: int) -> list[RawResponse]:
    """Read `count` responses sent back to back on one connection."""
    buffered = b""
    responses = []
    for _ in range(count):
        while b"\r\n\r\n" not in buffered:
            buffered += receive(connection)
        head, _, rest = buffered.partition(b"\r\n\r\n")
        length = int(
            next(
                line.split(b":", 1)[1]
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
        )
        while len(rest) < length:
            rest += receive(connection)
        responses.append(parse_response(head + b"\r\n\r\n" + rest[:length]))
        buffered = rest[length:]
    return responses


def receive(connection: socket.socket) -> bytes:
    chunk = connection.recv(65536)
    if not chunk:
        raise AssertionError("The server closed the connection")
    return chunk


def request(target: str, headers: dict[str, str], extra: str = "") -> bytes:
    lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def test_pipelined_responses_in_order(server: ServerProcess, token: TokenFactory) -> None:
    headers = authorization(token, "contract-admin")
    users_headers = {"Authorization": f"Bearer {server.token('demo-audit', 'demo-audit-secret')}"}
    batch = b"".join(
        [
            request("/v2/users/plusUser000000000000001/pac", headers),
            # A Users API call in between goes through the ASGI app; the PAC requests after
            # it must wait for its response.
            request("/v2/users/pac.user@example.com", users_headers),
            request("/v2/users/multiPacUser0000000001/pac", headers),
            request("/v2/users/nobody@example.com/pac", headers),
            request("/v2/users/plusUser000000000000001/pac?page_size=1", headers),
        ]
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(batch)
        responses = read_responses(connection, 5)

    assert [response.status_code for response in responses] == [200, 200, 200, 404, 200]
    assert b'"conference_id":"222222"' in responses[0].body
    assert b'"email":"pac.user@example.com"' in responses[1].body
    assert b'"conference_id":"333333"' in responses[2].body
    assert responses[3].json()["code"] == 1001
    assert responses[4].body == responses[0].body


def test_request_body_not_awaited(server: ServerProcess, token: TokenFactory) -> None:
    """A GET with a body gets its response before the body is complete, and the rest of the
    body does not disturb the next request on the connection."""
    headers = authorization(token, "contract-admin")
    target = "/v2/users/plusUser000000000000001/pac"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request(target, {**headers, "Content-Length": "11"}) + b"hello")
        [first] = read_responses(connection, 1)
        connection.sendall(b"=world" + request(target, headers))
        [second] = read_responses(connection, 1)

    assert first.status_code == 200
    assert second.status_code == 200
    assert first.body == second.body


@pytest.mark.parametrize("protocol", ["websocket", "h2c"])
def test_upgrade_then_pipelined(server: ServerProcess, token: TokenFactory, protocol: str) -> None:
    """A request asking for another protocol gets its HTTP response, and so do the requests
    sent behind it in the same packet."""
    headers = authorization(token, "contract-admin")
    target = "/v2/users/plusUser000000000000001/pac"
    upgrade = {**headers, "Connection": "Upgrade", "Upgrade": protocol}
    batch = request(target, upgrade) + request(target, headers) + request("/v2/nowhere", {})
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(batch)
        responses = read_responses(connection, 3)

    assert [response.status_code for response in responses] == [200, 200, 404]
    assert responses[0].body == responses[1].body


UPGRADE_WITH_BODY_ERROR = {
    "code": 300,
    "message": "Invalid HTTP request. A request with a body cannot carry an Upgrade header.",
}


def token_request(upgrade: bool) -> bytes:
    body = b"grant_type=account_credentials&account_id=" + CONTRACT_ACCOUNT.encode()
    credentials = base64.b64encode(f"contract-admin:{CONTRACT_SECRET}".encode()).decode()
    head = (
        "POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + ("Connection: Upgrade\r\nUpgrade: websocket\r\n" if upgrade else "")
        + f"Authorization: Basic {credentials}\r\n"
        + "Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def test_upgrade_with_body_rejected(server: ServerProcess) -> None:
    # The parser would skip the body of such a request, so it is rejected rather than served
    # without it.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(token_request(upgrade=True))
        [response] = read_responses(connection, 1)
        closed = connection.recv(65536)

    assert response.status_code == 400
    assert response.json() == UPGRADE_WITH_BODY_ERROR
    assert closed == b""


def test_upgrade_rejection_keeps_order(server: ServerProcess, token: TokenFactory) -> None:
    """The 400 follows the responses to earlier requests, whichever route served them."""
    headers = authorization(token, "contract-admin")
    upgrade = {**headers, "Connection": "Upgrade", "Upgrade": "websocket"}
    batch = b"".join(
        [
            request("/v2/users/plusUser000000000000001/pac", headers),
            token_request(upgrade=False),
            request("/v2/users/plusUser000000000000001/pac", upgrade),
            token_request(upgrade=True),
            request("/v2/users/plusUser000000000000001/pac", headers),
        ]
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(batch)
        responses = read_responses(connection, 4)
        closed = connection.recv(65536)

    assert [response.status_code for response in responses] == [200, 200, 200, 400]
    assert "access_token" in responses[1].json()
    assert responses[3].json() == UPGRADE_WITH_BODY_ERROR
    assert closed == b""


def test_upgrade_with_empty_body_served(server: ServerProcess, token: TokenFactory) -> None:
    headers = authorization(token, "contract-admin")
    target = "/v2/users/plusUser000000000000001/pac"
    upgrade = {**headers, "Connection": "Upgrade", "Upgrade": "h2c", "Content-Length": "00"}
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(request(target, upgrade) + request(target, headers))
        responses = read_responses(connection, 2)

    assert [response.status_code for response in responses] == [200, 200]


def test_http_1_0_same_response(server: ServerProcess, token: TokenFactory) -> None:
    headers = authorization(token, "contract-admin")
    target = b"/v2/users/plusUser000000000000001/pac"
    message = request(target.decode(), headers).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(message)
        old = read_response(connection)

    assert comparable(old) == comparable(raw_request(server.port, target, headers=headers))


def test_keep_alive_after_direct_responses(server: ServerProcess, token: TokenFactory) -> None:
    """A connection in use stays open; an idle one closes after uvicorn's keep-alive timeout.

    Two pipelined requests served directly arm the timer twice. A timer lost on the way would
    close the connection while it is still in use.
    """
    headers = authorization(token, "contract-admin")
    pac = request("/v2/users/plusUser000000000000001/pac", headers)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.sendall(pac + pac)
        assert [r.status_code for r in read_responses(connection, 2)] == [200, 200]
        started = time.monotonic()
        while time.monotonic() - started < KEEP_ALIVE_SECONDS + 2:
            time.sleep(1)
            connection.sendall(pac)
            assert read_responses(connection, 1)[0].status_code == 200

        idle_since = time.monotonic()
        connection.settimeout(KEEP_ALIVE_SECONDS + 10)
        assert connection.recv(1) == b""  # The server closed the idle connection.
        assert KEEP_ALIVE_SECONDS - 1 < time.monotonic() - idle_since < KEEP_ALIVE_SECONDS + 5


def test_keep_alive_during_a_slow_request(server: ServerProcess, token: TokenFactory) -> None:
    """The timer a direct response left running does not close a connection busy on the ASGI
    route, and the connection closes once idle for the whole timeout after that response.
    """
    headers = authorization(token, "contract-admin")
    pac = request("/v2/users/plusUser000000000000001/pac", headers)
    with (
        httpx.Client(base_url=server.base_url, headers=ADMIN) as admin,
        socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection,
    ):
        connection.sendall(pac)
        assert read_responses(connection, 1)[0].status_code == 200
        # While a fault is armed, PAC requests take the ASGI route.
        latency_ms = (KEEP_ALIVE_SECONDS + 2) * 1000
        fault = {"path": "/v2/users/{userId}/pac", "latency_ms": latency_ms, "times": 1}
        assert admin.post("/zoompac/faults", json=fault).status_code == 201

        connection.sendall(pac)
        assert read_responses(connection, 1)[0].status_code == 200
        answered = time.monotonic()
        connection.sendall(pac)
        assert read_responses(connection, 1)[0].status_code == 200

        connection.settimeout(KEEP_ALIVE_SECONDS + 10)
        assert connection.recv(1) == b""
        assert KEEP_ALIVE_SECONDS - 1 < time.monotonic() - answered < KEEP_ALIVE_SECONDS + 5
