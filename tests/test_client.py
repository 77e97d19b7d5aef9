"""`Client` and `AsyncClient` against real zoompac servers on 127.0.0.1.

httpx.MockTransport replaces a server only where zoompac cannot produce the case: an HTML page
from a proxy, a dropped connection, a server that rejects every token, a page token sent twice.
"""

from __future__ import annotations

import asyncio
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fixtures.client_accounts import (
    ACCOUNT,
    CLIENT_ID,
    SCOPES,
    SECRET,
    document,
    start_loaded,
    user_entries,
)
from tests.helpers import TRACKING_ID
from tests.server import ServerProcess
from tests.services import free_port
from zoompac.client import (
    AsyncClient,
    Client,
    InvalidTokenError,
    MissingScopesError,
    PacNotEnabledError,
    PaginationError,
    RetryEvent,
    RetryPolicy,
    ServerToServerAuth,
    TokenCache,
    TokenError,
    User,
    UserAuth,
    UserNotFoundError,
    ZoomAPIError,
    ZoomTransportError,
)

SPECIAL_USERS = [
    {"id": "plus0001", "email": "a+b@example.com", "pac_accounts": [{"conference_id": 91}]},
    {"id": "upper001", "email": "Upper.Case@Example.com", "pac_accounts": [{"conference_id": 92}]},
    {"id": "slash001", "email": "slash/user@example.com", "pac_accounts": [{"conference_id": 93}]},
    {"id": "umlaut01", "email": "jörg.müller@example.com", "pac_accounts": [{"conference_id": 94}]},
]
USER_APP = "client-user-app"
REDIRECT_URI = "http://127.0.0.1:9/callback"
NO_SCOPE_APP = "client-users-only"
OFF_ACCOUNT = "client-pac-off"
OFF_APP = "client-pac-off-admin"


def fixture_document() -> dict[str, Any]:
    apps = [
        {"client_id": CLIENT_ID, "client_secret": SECRET, "scopes": SCOPES},
        {"client_id": NO_SCOPE_APP, "client_secret": SECRET, "scopes": ["user:read:admin"]},
        {
            "client_id": USER_APP,
            "client_secret": SECRET,
            "kind": "user",
            "scopes": ["pac:read"],
            "redirect_uri": REDIRECT_URI,
        },
    ]
    return {
        "version": 1,
        "accounts": [
            {
                "id": ACCOUNT,
                "plan": "pro",
                "apps": apps,
                "users": user_entries(301)
                + user_entries(4, status="inactive", prefix="x", conference_base=20_000_000)
                + SPECIAL_USERS,
            },
            {
                "id": OFF_ACCOUNT,
                "plan": "pro",
                "pac_enabled": False,
                "apps": [{"client_id": OFF_APP, "client_secret": SECRET, "scopes": SCOPES}],
                "users": [{"id": "off00001", "email": "off@example.com"}],
            },
        ],
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    started = start_loaded(
        tmp_path_factory.mktemp("client-server"),
        fixture_document(),
        "--no-rate-limits",
        "--auto-approve-user",
        "u00002@example.com",
    )
    yield started
    started.stop()


class Counter:
    """Counts the requests a client sends, by path, through an httpx event hook."""

    def __init__(self) -> None:
        self.urls: list[httpx.URL] = []
        self._lock = threading.Lock()

    def hook(self, request: httpx.Request) -> None:
        with self._lock:
            self.urls.append(request.url)

    @property
    def paths(self) -> list[str]:
        return [url.path for url in self.urls]

    async def ahook(self, request: httpx.Request) -> None:
        self.hook(request)

    def count(self, suffix: str) -> int:
        return sum(1 for path in self.paths if path.endswith(suffix))

    @property
    def tokens(self) -> int:
        return self.count("/oauth/token")


def s2s(
    server: ServerProcess, cache: TokenCache | None = None, **options: Any
) -> ServerToServerAuth:
    return ServerToServerAuth(
        ACCOUNT, CLIENT_ID, SECRET, token_url=server.token_url, cache=cache, **options
    )


def make_client(server: ServerProcess, counter: Counter | None = None, **options: Any) -> Client:
    hooks = {"request": [counter.hook]} if counter else None
    auth = options.pop("auth", None) or s2s(server)
    return Client(auth, base_url=server.api_url, event_hooks=hooks, **options)


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[Client]:
    with make_client(server) as shared:
        yield shared


def test_pac_accounts(client: Client) -> None:
    accounts = client.list_pac_accounts("u00003@example.com")
    assert [a.conference_id for a in accounts] == [10000030, 10000031]


def test_dial_in_numbers(client: Client) -> None:
    accounts = client.list_pac_accounts("u00002")
    assert [n.country for n in accounts[0].global_dial_in_numbers] == ["GB", "DE"]


def test_no_pac_accounts(client: Client) -> None:
    assert client.list_pac_accounts("u00001") == []


@pytest.mark.parametrize("user", SPECIAL_USERS, ids=lambda user: user["id"])
def test_special_email(client: Client, user: dict[str, Any]) -> None:
    accounts = client.list_pac_accounts(user["email"])
    assert [a.conference_id for a in accounts] == [user["pac_accounts"][0]["conference_id"]]


def test_email_case_insensitive(client: Client) -> None:
    accounts = client.list_pac_accounts("A+B@EXAMPLE.COM")
    assert [a.conference_id for a in accounts] == [91]


def test_conference_id_integer_server(tmp_path: Path) -> None:
    users = [{"id": "int00001", "email": "int@example.com", "pac_accounts": [{"conference_id": 7}]}]
    integer_server = start_loaded(tmp_path, document(users), "--conference-id-format", "integer")
    try:
        with make_client(integer_server) as integer_client:
            accounts = integer_client.list_pac_accounts("int@example.com")
    finally:
        integer_server.stop()
    assert accounts[0].conference_id == 7


@pytest.fixture(scope="module")
def unknown_user_error(client: Client) -> UserNotFoundError:
    with pytest.raises(UserNotFoundError) as caught:
        client.list_pac_accounts("nobody@example.com")
    return caught.value


def test_unknown_user_status(unknown_user_error: UserNotFoundError) -> None:
    assert unknown_user_error.status_code == 404


def test_unknown_user_code(unknown_user_error: UserNotFoundError) -> None:
    assert unknown_user_error.code == 1001


def test_unknown_user_message(unknown_user_error: UserNotFoundError) -> None:
    assert unknown_user_error.message == "User does not exist: nobody@example.com."


def test_unknown_user_tracking_id(unknown_user_error: UserNotFoundError) -> None:
    assert TRACKING_ID.fullmatch(unknown_user_error.tracking_id or "")


def test_user_pac_off(client: Client) -> None:
    with pytest.raises(PacNotEnabledError) as caught:
        client.list_pac_accounts("u00000")
    assert (caught.value.code, caught.value.account_wide) == (2024, False)


def test_account_pac_off(server: ServerProcess) -> None:
    auth = ServerToServerAuth(OFF_ACCOUNT, OFF_APP, SECRET, token_url=server.token_url)
    with (
        Client(auth, base_url=server.api_url) as off_client,
        pytest.raises(PacNotEnabledError) as caught,
    ):
        off_client.list_pac_accounts("off@example.com")
    assert (caught.value.code, caught.value.account_wide) == (200, True)


def test_missing_scopes(server: ServerProcess) -> None:
    auth = ServerToServerAuth(ACCOUNT, NO_SCOPE_APP, SECRET, token_url=server.token_url)
    with (
        Client(auth, base_url=server.api_url) as scoped,
        pytest.raises(MissingScopesError) as caught,
    ):
        scoped.list_pac_accounts("u00002")
    assert caught.value.code == 4711


def test_bad_token_no_retry(server: ServerProcess) -> None:
    counter = Counter()
    with make_client(server, counter, auth="garbage") as bad, pytest.raises(InvalidTokenError):
        bad.list_pac_accounts("u00002")
    assert counter.count("/pac") == 1


def test_wrong_secret(server: ServerProcess, tmp_path: Path) -> None:
    auth = ServerToServerAuth(ACCOUNT, CLIENT_ID, "wrong", token_url=server.token_url)
    with Client(auth, base_url=server.api_url) as wrong, pytest.raises(TokenError) as caught:
        wrong.list_pac_accounts("u00002")
    assert caught.value.error == "invalid_client"


def test_wrong_secret_ignores_cache(server: ServerProcess, tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    with make_client(server, auth=s2s(server, cache)) as right:
        right.list_pac_accounts("u00002")
    auth = ServerToServerAuth(ACCOUNT, CLIENT_ID, "wrong", token_url=server.token_url, cache=cache)
    with Client(auth, base_url=server.api_url) as wrong, pytest.raises(TokenError):
        wrong.list_pac_accounts("u00002")


def test_unreachable_token_url() -> None:
    closed = free_port()
    auth = ServerToServerAuth(ACCOUNT, CLIENT_ID, SECRET, token_url=f"http://127.0.0.1:{closed}/t")
    with (
        Client(auth, base_url=f"http://127.0.0.1:{closed}/v2") as dead,
        pytest.raises(ZoomTransportError),
    ):
        dead.list_pac_accounts("u00002")


# Tokens


def test_revoked_token_replaced_once(tmp_path: Path) -> None:
    revoking = start_loaded(tmp_path, document(user_entries(3)), "--revoke-older-tokens")
    counter = Counter()
    try:
        with make_client(revoking, counter) as revoked:
            revoked.list_pac_accounts("u00002")
            # Another process fetching a token revokes this client's one.
            revoking.token(CLIENT_ID, SECRET, ACCOUNT)
            revoked.list_pac_accounts("u00002")
    finally:
        revoking.stop()
    assert (counter.tokens, counter.count("/pac")) == (2, 3)


def always_rejecting(counter: Counter) -> httpx.MockTransport:
    """A server that issues tokens and then rejects every one, which zoompac never does."""

    def handle(request: httpx.Request) -> httpx.Response:
        counter.hook(request)
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(401, json={"code": 124, "message": "Invalid access token."})

    return httpx.MockTransport(handle)


@pytest.fixture
def rejected_counts() -> tuple[int, int]:
    counter = Counter()
    auth = ServerToServerAuth(ACCOUNT, CLIENT_ID, SECRET, token_url="http://zoom.test/oauth/token")
    transport = always_rejecting(counter)
    with (
        Client(auth, base_url="http://zoom.test/v2", transport=transport) as rejecting,
        pytest.raises(InvalidTokenError),
    ):
        rejecting.list_pac_accounts("u00002")
    return counter.tokens, counter.count("/pac")


def test_rejection_one_new_token(rejected_counts: tuple[int, int]) -> None:
    assert rejected_counts[0] == 2


def test_rejection_one_retry(rejected_counts: tuple[int, int]) -> None:
    assert rejected_counts[1] == 2


def test_threads_share_one_fetch(server: ServerProcess) -> None:
    counter = Counter()
    with make_client(server, counter) as shared:
        threads = [
            threading.Thread(target=shared.list_pac_accounts, args=("u00002",)) for _ in range(12)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert (counter.tokens, counter.count("/pac")) == (1, 12)


def test_tasks_share_one_fetch(server: ServerProcess) -> None:
    counter = Counter()

    async def run() -> None:
        auth = s2s(server)
        hooks = {"request": [counter.ahook]}
        async with AsyncClient(auth, base_url=server.api_url, event_hooks=hooks) as shared:
            await asyncio.gather(*(shared.list_pac_accounts("u00002") for _ in range(12)))

    asyncio.run(run())
    assert (counter.tokens, counter.count("/pac")) == (1, 12)


def test_cache_shared_between_clients(server: ServerProcess, tmp_path: Path) -> None:
    counter = Counter()
    for _ in range(3):
        with make_client(server, counter, auth=s2s(server, TokenCache(tmp_path))) as fresh:
            fresh.list_pac_accounts("u00002")
    assert counter.tokens == 1


@pytest.fixture
def cache_dir(server: ServerProcess, tmp_path: Path) -> Path:
    folder = tmp_path / "tokens"
    with make_client(server, auth=s2s(server, TokenCache(folder))) as cached:
        cached.list_pac_accounts("u00002")
    return folder


def test_cache_file_private(cache_dir: Path) -> None:
    modes = {stat.S_IMODE(path.stat().st_mode) for path in cache_dir.iterdir()}
    assert modes == {0o600}


def test_cache_dir_private(cache_dir: Path) -> None:
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700


def test_cache_holds_no_secret(cache_dir: Path) -> None:
    assert all(SECRET not in path.read_text() for path in cache_dir.iterdir())


def test_cache_keyed_by_account(server: ServerProcess, cache_dir: Path) -> None:
    other = ServerToServerAuth(
        OFF_ACCOUNT, OFF_APP, SECRET, token_url=server.token_url, cache=TokenCache(cache_dir)
    )
    with Client(other, base_url=server.api_url) as other_client:
        other.token(other_client.http, lambda: datetime.now(UTC))
    assert len(list(cache_dir.glob("*.json"))) == 2


def test_token_renewed_ahead_of_expiry(server: ServerProcess) -> None:
    counter = Counter()
    now = datetime.now(UTC)
    with make_client(server, counter) as renewing:
        renewing.list_pac_accounts("u00002")
        # Five seconds before the hour's end, within the 60 s margin: renew before sending.
        renewing.auth.token(renewing.http, lambda: now + timedelta(seconds=3600 - 5))
    assert counter.tokens == 2


# User-level OAuth with rotating refresh tokens


def authorization_code(server: ServerProcess) -> str:
    response = httpx.get(
        f"{server.base_url}/oauth/authorize",
        params={"response_type": "code", "client_id": USER_APP, "redirect_uri": REDIRECT_URI},
    )
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


def in_two_hours() -> datetime:
    # A clock past every token's expiry forces a refresh.
    return datetime.now(UTC) + timedelta(hours=2)


@pytest.fixture
def rotated(server: ServerProcess, tmp_path: Path) -> tuple[UserAuth, UserAuth, Client]:
    """Two processes' worth of `UserAuth` on one cache; the first has rotated the refresh token
    after the second loaded its token."""
    cache = TokenCache(tmp_path)
    first = UserAuth(USER_APP, SECRET, token_url=server.token_url, cache=cache)
    first.exchange_code(authorization_code(server), REDIRECT_URI)
    second = UserAuth(USER_APP, SECRET, token_url=server.token_url, cache=cache)
    http_client = Client(second, base_url=server.api_url)
    second.token(http_client.http, lambda: datetime.now(UTC))
    first.token(http_client.http, in_two_hours)
    return first, second, http_client


def test_user_token_lists_me(server: ServerProcess, tmp_path: Path) -> None:
    auth = UserAuth(USER_APP, SECRET, token_url=server.token_url, cache=TokenCache(tmp_path))
    auth.exchange_code(authorization_code(server), REDIRECT_URI)
    with Client(auth, base_url=server.api_url) as user_client:
        assert [a.conference_id for a in user_client.list_pac_accounts("me")] == [10000020]


def test_refresh_uses_newest_refresh_token(rotated: tuple[UserAuth, UserAuth, Client]) -> None:
    _, second, http_client = rotated
    with http_client:
        # The second process's own refresh token was spent by the first: it must read the new one.
        second.token(http_client.http, in_two_hours)
        assert [a.conference_id for a in http_client.list_pac_accounts("me")] == [10000020]


def test_refresh_token_persisted(
    rotated: tuple[UserAuth, UserAuth, Client], server: ServerProcess
) -> None:
    first, _, http_client = rotated
    third = UserAuth(USER_APP, SECRET, token_url=server.token_url, cache=first.cache)
    with http_client:
        third.token(http_client.http, lambda: datetime.now(UTC))
    assert third.current == first.current


def test_user_auth_without_token(server: ServerProcess, tmp_path: Path) -> None:
    auth = UserAuth(USER_APP, SECRET, token_url=server.token_url, cache=TokenCache(tmp_path))
    with (
        Client(auth, base_url=server.api_url) as empty,
        pytest.raises(TokenError, match="exchange_code"),
    ):
        empty.list_pac_accounts("me")


# Retries of what only a proxy or the network produces


HTML_503 = b"<html><body><h1>503 Service Temporarily Unavailable</h1>nginx</body></html>"
FAST_RETRIES = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02)


def html_proxy(counter: Counter) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        counter.hook(request)
        return httpx.Response(503, content=HTML_503, headers={"content-type": "text/html"})

    return httpx.MockTransport(handle)


@pytest.fixture
def html_error() -> tuple[ZoomAPIError, Counter]:
    counter = Counter()
    with (
        Client(
            "token",
            base_url="http://zoom.test/v2",
            transport=html_proxy(counter),
            retry=FAST_RETRIES,
        ) as proxied,
        pytest.raises(ZoomAPIError) as caught,
    ):
        proxied.list_pac_accounts("u00002")
    return caught.value, counter


def test_html_503_status(html_error: tuple[ZoomAPIError, Counter]) -> None:
    assert html_error[0].status_code == 503


def test_html_503_excerpt(html_error: tuple[ZoomAPIError, Counter]) -> None:
    assert "503 Service Temporarily Unavailable" in html_error[0].message


def test_html_503_retried(html_error: tuple[ZoomAPIError, Counter]) -> None:
    assert html_error[1].count("/pac") == 3


def test_post_not_retried() -> None:
    counter = Counter()
    with (
        Client(
            "token",
            base_url="http://zoom.test/v2",
            transport=html_proxy(counter),
            retry=FAST_RETRIES,
        ) as proxied,
        pytest.raises(ZoomAPIError),
    ):
        proxied.request("POST", "users")
    assert counter.count("/users") == 1


class DroppingTransport(httpx.BaseTransport):
    """Drops the first `drops` connections, then passes requests to the real server."""

    def __init__(self, drops: int) -> None:
        self.drops = drops
        self.real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/pac") and self.drops > 0:
            self.drops -= 1
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return self.real.handle_request(request)

    def close(self) -> None:
        self.real.close()


def test_dropped_connection_retried(server: ServerProcess) -> None:
    events: list[RetryEvent] = []
    with make_client(
        server, transport=DroppingTransport(2), retry=FAST_RETRIES, on_retry=events.append
    ) as flaky:
        accounts = flaky.list_pac_accounts("u00003")
    assert ([e.reason for e in events], len(accounts)) == (["connection_error"] * 2, 2)


def test_dropped_connection_gives_up(server: ServerProcess) -> None:
    with (
        make_client(server, transport=DroppingTransport(5), retry=FAST_RETRIES) as flaky,
        pytest.raises(ZoomTransportError, match="Check the base URL"),
    ):
        flaky.list_pac_accounts("u00003")


# Paging


def test_iter_users_across_pages(client: Client) -> None:
    ids = [user.id for user in client.iter_users()]
    assert len(ids) == len(set(ids)) == 301 + len(SPECIAL_USERS)


def test_iter_users_status(client: Client) -> None:
    ids = [user.id for user in client.iter_users(status="inactive", page_size=3)]
    assert ids == ["x00000", "x00001", "x00002", "x00003"]


def test_iter_users_same_query_each_page(server: ServerProcess) -> None:
    seen: list[httpx.URL] = []
    hooks = {"request": [lambda request: seen.append(request.url)]}
    with Client(s2s(server), base_url=server.api_url, event_hooks=hooks) as paging:
        list(paging.iter_users(status="inactive", page_size=2))
    queries = [
        (u.params["status"], u.params["page_size"]) for u in seen if u.path.endswith("/users")
    ]
    assert queries == [("inactive", "2")] * 2


def repeating_pages() -> httpx.MockTransport:
    """A server whose second page points back at itself."""

    def handle(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("next_page_token")
        user = {"id": f"user-{token or 'first'}", "email": f"{token or 'first'}@example.com"}
        return httpx.Response(200, json={"next_page_token": "same", "users": [user]})

    return httpx.MockTransport(handle)


def test_iter_users_token_seen_twice() -> None:
    with (
        Client("token", base_url="http://zoom.test/v2", transport=repeating_pages()) as looping,
        pytest.raises(PaginationError, match="'same'"),
    ):
        list(looping.iter_users())


def test_async_iter_users(server: ServerProcess) -> None:
    async def walk() -> list[User]:
        async with AsyncClient(s2s(server), base_url=server.api_url) as paging:
            return [user async for user in paging.iter_users(status="inactive", page_size=3)]

    assert [user.id for user in asyncio.run(walk())] == ["x00000", "x00001", "x00002", "x00003"]


@pytest.fixture(scope="module")
def restarted_walk(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str | None], Counter]:
    """Walk 10 users 3 a page; between pages the server restarts 20 minutes later on its clock,
    so the page token in hand has expired."""
    data_dir = tmp_path_factory.mktemp("restarted")
    port = free_port()
    counter = Counter()
    with pytest.MonkeyPatch.context() as patch:
        # The second server must listen on the address the client already uses.
        patch.setattr("tests.server.free_port", lambda: port)
        early = start_loaded(
            data_dir, document(user_entries(10)), "--clock-start", "2031-01-01T00:00:00Z"
        )
        later = ServerProcess(data_dir, args=["--clock-start", "2031-01-01T00:20:00Z"])
        try:
            with make_client(early, counter) as paging:
                walk = paging.iter_users(page_size=3)
                ids = [next(walk).id for _ in range(4)]
                early.stop()
                later.start()
                ids += [user.id for user in walk]
        finally:
            early.stop()
            later.stop()
    return ids, counter


def test_expired_page_token_restarts(restarted_walk: tuple[list[str | None], Counter]) -> None:
    assert restarted_walk[0] == [f"u{n:05d}" for n in range(10)]


def test_expired_page_token_one_restart(restarted_walk: tuple[list[str | None], Counter]) -> None:
    # Pages asked for without a token: the very first, and the one that started over.
    first_pages = [
        url
        for url in restarted_walk[1].urls
        if url.path.endswith("/users") and "next_page_token" not in url.params
    ]
    assert len(first_pages) == 2
