"""Zoom's per-account rate limits: headers, shared buckets, 429s, plan defaults and overrides.

Every account of `tests/fixtures/rate_limits.yaml` serves one test, so no two tests count requests
in the same bucket. Servers that need other limits run over the same database file; their counters
live in memory, so each server starts with empty buckets.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from tests.helpers import (
    FIXTURES_DIR,
    TRACKING_ID,
    USER_NOT_IN_ACCOUNT,
    assert_zoom_error,
    bearer,
    load_fixture_file,
    user_not_found,
)
from tests.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]

FIXTURE = FIXTURES_DIR / "rate_limits.yaml"
SECRET = "rate-secret"
PER_SECOND_LIMITED = {
    "code": 429,
    "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
}
DAILY_LIMITED = {
    "code": 429,
    "message": (
        "You have reached the maximum daily rate limit for this API. Refer to the response "
        "header for details on when you can make another request."
    ),
}
MISSING_LIST_SCOPE = {
    "code": 4711,
    "message": "Invalid access token, does not contain scopes:[user:read:admin].",
}


def limits(
    category: str, kind: str, limit: int, remaining: int, retry_after: str | None = None
) -> dict[str, str]:
    """The rate-limit headers a response should carry, keyed as httpx lower-cases them."""
    headers = {
        "x-ratelimit-category": category,
        "x-ratelimit-type": kind,
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
    }
    if retry_after is not None:
        headers["retry-after"] = retry_after
    return headers


def rate_headers(response: httpx.Response) -> dict[str, str]:
    return {
        name: value
        for name, value in response.headers.items()
        if name.startswith("x-ratelimit-") or name == "retry-after"
    }


@dataclass
class Caller:
    """An account's admin token on one server, with the paths of the account's own user."""

    http: httpx.Client
    server: ServerProcess
    account: str
    token: str

    @property
    def pac(self) -> str:
        return f"/users/{self.account}-user/pac"

    @property
    def user(self) -> str:
        return f"/users/{self.account}-user"

    @property
    def settings(self) -> str:
        return f"/users/{self.account}-user/settings"

    users = "/users"

    def get(self, path: str) -> httpx.Response:
        return self.http.get(f"{self.server.api_url}{path}", headers=bearer(self.token))


CallerFactory = Callable[..., Caller]


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def rl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the fixture loaded, shared by every server of this module."""
    directory = tmp_path_factory.mktemp("rate-limits")
    load_fixture_file(ServerProcess(directory).database_url, FIXTURE)
    return directory


def caller_factory(http: httpx.Client, server: ServerProcess) -> CallerFactory:
    def caller(account: str, client_id: str | None = None) -> Caller:
        token = server.token(client_id or f"{account}-app", SECRET, account)
        return Caller(http, server, account, token)

    return caller


def module_server(rl_dir: Path, *args: str) -> Iterator[ServerProcess]:
    server = ServerProcess(rl_dir, args=list(args)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def default_server(rl_dir: Path) -> Iterator[ServerProcess]:
    yield from module_server(rl_dir)


@pytest.fixture(scope="module")
def at_default(http: httpx.Client, default_server: ServerProcess) -> CallerFactory:
    """Callers on a server with Zoom's default limits."""
    return caller_factory(http, default_server)


# Headers on every response of a rate-limited route.


def test_pac_headers(at_default: CallerFactory):
    caller = at_default("rl-pro-light")
    response = caller.get(caller.pac)
    assert response.status_code == 200
    assert rate_headers(response) == limits("Light", "QPS", 30, 29)


def test_error_headers(at_default: CallerFactory):
    caller = at_default("rl-pro-errors")
    missing = caller.get("/users/nobody@example.com/pac")
    elsewhere = caller.get("/users/rl-pro-light-user/pac")
    assert_zoom_error(missing, 404, user_not_found("nobody@example.com"))
    assert rate_headers(missing) == limits("Light", "QPS", 30, 29)
    assert_zoom_error(elsewhere, 400, USER_NOT_IN_ACCOUNT)
    assert rate_headers(elsewhere) == limits("Light", "QPS", 30, 28)


def test_scope_error_headers(at_default: CallerFactory):
    caller = at_default("rl-pro-errors", "rl-pro-errors-pac-only")
    response = caller.get(caller.users)
    assert_zoom_error(response, 400, MISSING_LIST_SCOPE)
    assert rate_headers(response) == limits("Medium", "QPS", 20, 19)


def test_no_token_no_headers(default_server: ServerProcess, http: httpx.Client):
    response = http.get(f"{default_server.api_url}/users/rl-pro-light-user/pac")
    assert_zoom_error(response, 401, {"code": 124, "message": "Invalid access token."})
    assert rate_headers(response) == {}


def test_light_bucket_shared(at_default: CallerFactory):
    caller = at_default("rl-pro-shared")
    responses = [caller.get(caller.user), caller.get(caller.pac), caller.get(caller.user)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [rate_headers(r) for r in responses] == [
        limits("Light", "QPS", 30, 29),
        limits("Light", "QPS", 30, 28),
        limits("Light", "QPS", 30, 27),
    ]


def test_medium_bucket_separate(at_default: CallerFactory):
    caller = at_default("rl-pro-medium")
    paths = [caller.pac, caller.users, caller.settings, caller.pac]
    responses = [caller.get(path) for path in paths]
    assert [r.status_code for r in responses] == [200, 200, 200, 200]
    assert [rate_headers(r) for r in responses] == [
        limits("Light", "QPS", 30, 29),
        limits("Medium", "QPS", 20, 19),
        limits("Medium", "QPS", 20, 18),
        limits("Light", "QPS", 30, 28),
    ]


def test_accounts_separate(at_default: CallerFactory):
    first, second = at_default("rl-pro-a"), at_default("rl-pro-b")
    for _ in range(3):
        first.get(first.pac)
    response = second.get(second.pac)
    assert rate_headers(response) == limits("Light", "QPS", 30, 29)


@pytest.mark.parametrize(
    ("account", "route", "expected"),
    [
        ("rl-business", "pac", limits("Light", "QPS", 80, 79)),
        ("rl-business", "users", limits("Medium", "QPS", 60, 59)),
        ("rl-education", "pac", limits("Light", "QPS", 80, 79)),
        ("rl-enterprise", "user", limits("Light", "QPS", 80, 79)),
        ("rl-partner", "pac", limits("Light", "QPS", 80, 79)),
        ("rl-partner", "settings", limits("Medium", "QPS", 60, 59)),
        ("rl-free", "user", limits("Light", "Daily-limit", 6000, 5999)),
        ("rl-free", "users", limits("Medium", "Daily-limit", 2000, 1999)),
        ("rl-basic", "user", limits("Light", "Daily-limit", 6000, 5999)),
        ("rl-basic", "settings", limits("Medium", "Daily-limit", 2000, 1999)),
    ],
)
def test_plan_defaults(
    at_default: CallerFactory, account: str, route: str, expected: dict[str, str]
):
    caller = at_default(account)
    response = caller.get(getattr(caller, route))
    assert response.status_code == 200
    assert rate_headers(response) == expected


@pytest.fixture(scope="module")
def free_burst(at_default: CallerFactory) -> list[httpx.Response]:
    caller = at_default("rl-free-burst")
    return [caller.get(caller.user) for _ in range(5)]


def test_free_burst_statuses(free_burst: list[httpx.Response]):
    assert [r.status_code for r in free_burst] == [200, 200, 200, 200, 429]


def test_free_burst_daily_counts(free_burst: list[httpx.Response]):
    assert [r.headers["x-ratelimit-remaining"] for r in free_burst[:4]] == [
        "5999",
        "5998",
        "5997",
        "5996",
    ]


def test_free_burst_429(free_burst: list[httpx.Response]):
    assert_zoom_error(free_burst[4], 429, PER_SECOND_LIMITED)
    assert rate_headers(free_burst[4]) == limits("Light", "QPS", 4, 0, retry_after="1")


# A 429, on a server whose Pro Light limit is 2 per second.


@pytest.fixture(scope="module")
def limited_server(rl_dir: Path) -> Iterator[ServerProcess]:
    yield from module_server(
        rl_dir,
        "--rate-limit",
        "pro.light=2",
        "--rate-limit",
        "business.medium=5",
        "--rate-limit",
        "enterprise.light=off",
        "--rate-limit",
        "free.light=off",
    )


@pytest.fixture(scope="module")
def at_limited(http: httpx.Client, limited_server: ServerProcess) -> CallerFactory:
    return caller_factory(http, limited_server)


@pytest.fixture(scope="module")
def burst(at_limited: CallerFactory) -> list[httpx.Response]:
    caller = at_limited("rl-pro-burst")
    return [caller.get(caller.pac) for _ in range(3)]


def test_burst_statuses(burst: list[httpx.Response]):
    assert [r.status_code for r in burst] == [200, 200, 429]


def test_burst_remaining(burst: list[httpx.Response]):
    assert [rate_headers(r) for r in burst[:2]] == [
        limits("Light", "QPS", 2, 1),
        limits("Light", "QPS", 2, 0),
    ]


def test_429_body(burst: list[httpx.Response]):
    assert_zoom_error(burst[2], 429, PER_SECOND_LIMITED)


def test_429_headers(burst: list[httpx.Response]):
    assert rate_headers(burst[2]) == limits("Light", "QPS", 2, 0, retry_after="1")


def test_429_tracking_id(burst: list[httpx.Response]):
    assert TRACKING_ID.fullmatch(burst[2].headers["x-zm-trackingid"])


def test_429_spares_medium(burst: list[httpx.Response], at_limited: CallerFactory):
    caller = at_limited("rl-pro-burst")
    response = caller.get(caller.users)
    assert response.status_code == 200
    assert rate_headers(response) == limits("Medium", "QPS", 20, 19)


def test_429_passes(burst: list[httpx.Response], at_limited: CallerFactory):
    caller = at_limited("rl-pro-burst")
    time.sleep(1.2)
    assert caller.get(caller.pac).status_code == 200


def test_override_medium(at_limited: CallerFactory):
    caller = at_limited("rl-business")
    assert rate_headers(caller.get(caller.users)) == limits("Medium", "QPS", 5, 4)


def test_override_keeps_other_label(at_limited: CallerFactory):
    caller = at_limited("rl-business")
    assert rate_headers(caller.get(caller.pac)) == limits("Light", "QPS", 80, 79)


def test_override_off(at_limited: CallerFactory):
    caller = at_limited("rl-enterprise")
    response = caller.get(caller.pac)
    assert response.status_code == 200
    assert rate_headers(response) == {}


def test_override_off_keeps_medium(at_limited: CallerFactory):
    caller = at_limited("rl-enterprise")
    assert rate_headers(caller.get(caller.settings)) == limits("Medium", "QPS", 60, 59)


def test_override_off_keeps_daily(at_limited: CallerFactory):
    # Free's 4 per second is off, its 6,000 per day stays. No other test uses the account,
    # because on Redis the servers over one data folder share their counts.
    caller = at_limited("rl-free-override")
    responses = [caller.get(caller.user) for _ in range(6)]
    assert [r.status_code for r in responses] == [200] * 6
    assert rate_headers(responses[-1]) == limits("Light", "Daily-limit", 6000, 5994)


def test_invalid_override(tmp_path: Path):
    spec = "pro.light=0"
    command = [sys.executable, "-m", "zoompac", "serve", "--port", "0", "--rate-limit", spec]
    command += ["--database", f"sqlite:///{tmp_path / 'zoompac.db'}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert (
        "Invalid rate-limit override 'pro.light=0': the value must be a whole number of at "
        "least 1, or off." in result.stderr
    )


# --no-rate-limits


@pytest.fixture(scope="module")
def unlimited_server(rl_dir: Path) -> Iterator[ServerProcess]:
    # The override would allow one request per second, but --no-rate-limits wins.
    yield from module_server(rl_dir, "--no-rate-limits", "--rate-limit", "pro.light=1")


@pytest.fixture(scope="module")
def at_unlimited(http: httpx.Client, unlimited_server: ServerProcess) -> CallerFactory:
    return caller_factory(http, unlimited_server)


def test_no_rate_limits(at_unlimited: CallerFactory):
    caller = at_unlimited("rl-pro-light")
    responses = [caller.get(caller.pac) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [rate_headers(r) for r in responses] == [{}, {}, {}]


@pytest.mark.parametrize("route", ["user", "users", "settings"])
def test_no_rate_limit_headers(at_unlimited: CallerFactory, route: str):
    caller = at_unlimited("rl-free")
    assert rate_headers(caller.get(getattr(caller, route))) == {}


def test_no_rate_limit_headers_on_errors(at_unlimited: CallerFactory):
    caller = at_unlimited("rl-pro-errors")
    response = caller.get("/users/nobody@example.com")
    assert response.status_code == 404
    assert rate_headers(response) == {}


# A Free account's daily limit resets at midnight UTC.

# The server clock starts this long before midnight; the server must start, issue a token and
# respond to four requests within it.
SECONDS_BEFORE_MIDNIGHT = 8


@dataclass(frozen=True)
class Midnight:
    today: date
    before: list[httpx.Response]
    after: httpx.Response


@pytest.fixture(scope="module")
def midnight(http: httpx.Client, rl_dir: Path) -> Midnight:
    today = datetime.now(UTC).date()
    next_midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC)
    clock_start = next_midnight - timedelta(seconds=SECONDS_BEFORE_MIDNIGHT)
    server = ServerProcess(
        rl_dir,
        args=[
            "--rate-limit",
            "free.light.daily=3",
            "--clock-start",
            clock_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ],
    ).start()
    try:
        token = server.token("rl-free-daily-app", SECRET, "rl-free-daily")
        token_received = time.monotonic()
        caller = Caller(http, server, "rl-free-daily", token)
        before = [caller.get(caller.user) for _ in range(4)]
        # The token's `iat` is the server clock when it issued the token, in whole seconds, so
        # the server clock has passed midnight once this much time has gone by since then.
        issued_at = jwt.decode(token, options={"verify_signature": False})["iat"]
        wait = token_received + (next_midnight.timestamp() - issued_at) + 0.5 - time.monotonic()
        time.sleep(max(0.0, wait))
        after = caller.get(caller.user)
    finally:
        server.stop()
    return Midnight(today, before, after)


def test_daily_statuses(midnight: Midnight):
    assert [r.status_code for r in midnight.before] == [200, 200, 200, 429]


def test_daily_remaining(midnight: Midnight):
    assert [rate_headers(r) for r in midnight.before[:3]] == [
        limits("Light", "Daily-limit", 3, 2),
        limits("Light", "Daily-limit", 3, 1),
        limits("Light", "Daily-limit", 3, 0),
    ]


def test_daily_429_body(midnight: Midnight):
    assert_zoom_error(midnight.before[3], 429, DAILY_LIMITED)


def test_daily_429_headers(midnight: Midnight):
    next_midnight = f"{midnight.today + timedelta(days=1)}T00:00:00Z"
    expected = limits("Light", "Daily-limit", 3, 0, retry_after=next_midnight)
    assert rate_headers(midnight.before[3]) == expected


def test_daily_resets(midnight: Midnight):
    assert midnight.after.status_code == 200
    assert rate_headers(midnight.after) == limits("Light", "Daily-limit", 3, 2)


# The clock moved back a day and forward again, as tests do through the control plane.

REWIND_ADMIN_TOKEN = "rl-rewind-admin-token"


@dataclass(frozen=True)
class Rewound:
    first_day: list[httpx.Response]  # 3 January, 00:00:00
    back: list[httpx.Response]  # 2 January, 23:00:00: five requests in one second
    forward: httpx.Response  # 3 January, 00:00:05
    back_again: httpx.Response  # 2 January, 23:00:10


@pytest.fixture(scope="module")
def rewound(http: httpx.Client, rl_dir: Path) -> Rewound:
    server = ServerProcess(
        rl_dir,
        args=["--rate-limit", "free.light.daily=7"],
        env={"ZOOMPAC_ADMIN_TOKEN": REWIND_ADMIN_TOKEN},
    ).start()
    admin = bearer(REWIND_ADMIN_TOKEN)

    def set_clock(at: str) -> None:
        change = {"freeze": True, "at": at}
        response = http.post(f"{server.base_url}/zoompac/clock", headers=admin, json=change)
        response.raise_for_status()

    try:
        set_clock("2031-01-03T00:00:00Z")
        caller = caller_factory(http, server)("rl-free-rewind")
        first_day = [caller.get(caller.user) for _ in range(4)]
        set_clock("2031-01-02T23:00:00Z")
        back = [caller.get(caller.user) for _ in range(5)]
        set_clock("2031-01-03T00:00:05Z")
        forward = caller.get(caller.user)
        set_clock("2031-01-02T23:00:10Z")
        back_again = caller.get(caller.user)
    finally:
        server.stop()
    return Rewound(first_day, back, forward, back_again)


def test_rewind_first_day(rewound: Rewound):
    assert [rate_headers(r) for r in rewound.first_day] == [
        limits("Light", "Daily-limit", 7, 6),
        limits("Light", "Daily-limit", 7, 5),
        limits("Light", "Daily-limit", 7, 4),
        limits("Light", "Daily-limit", 7, 3),
    ]


def test_rewind_statuses(rewound: Rewound):
    statuses = [r.status_code for r in (*rewound.first_day, *rewound.back)]
    assert statuses == [200, 200, 200, 200, 200, 200, 200, 200, 429]
    assert rewound.forward.status_code == 200
    assert rewound.back_again.status_code == 200


def test_rewind_counts_earlier_day(rewound: Rewound):
    # The requests logged at 00:00:00 on 3 January do not fill 2 January's window, and the
    # earlier day keeps its own count.
    assert [rate_headers(r) for r in rewound.back[:4]] == [
        limits("Light", "Daily-limit", 7, 6),
        limits("Light", "Daily-limit", 7, 5),
        limits("Light", "Daily-limit", 7, 4),
        limits("Light", "Daily-limit", 7, 3),
    ]


def test_rewind_per_second_limit(rewound: Rewound):
    assert_zoom_error(rewound.back[4], 429, PER_SECOND_LIMITED)
    assert rate_headers(rewound.back[4]) == limits("Light", "QPS", 4, 0, retry_after="1")


def test_rewind_keeps_later_day_count(rewound: Rewound):
    # The request rejected on 2 January leaves the four counted on 3 January as they were.
    assert rate_headers(rewound.forward) == limits("Light", "Daily-limit", 7, 2)


def test_rewind_keeps_earlier_day_count(rewound: Rewound):
    assert rate_headers(rewound.back_again) == limits("Light", "Daily-limit", 7, 2)


# Many clients at once.

HAMMER_LIMIT = 10
HAMMER_CLIENTS = 32
HAMMER_SECONDS = 4.0
# A bound on each client's request count, so the loop ends even if the clock misbehaves.
HAMMER_MAX_SHOTS = 5000


@dataclass(frozen=True)
class Shot:
    """One request: when the client sent it, when the response arrived, and its status.

    Status 0 stands for a connection error.
    """

    sent: float
    received: float
    status: int


def hammer(url: str, token: str) -> list[Shot]:
    barrier = threading.Barrier(HAMMER_CLIENTS)
    shots: list[list[Shot]] = [[] for _ in range(HAMMER_CLIENTS)]

    def run(index: int) -> None:
        with httpx.Client(headers=bearer(token), timeout=30) as client:
            barrier.wait()
            stop = time.monotonic() + HAMMER_SECONDS
            for _ in range(HAMMER_MAX_SHOTS):
                sent = time.monotonic()
                if sent >= stop:
                    break
                try:
                    status = client.get(url).status_code
                except httpx.HTTPError:
                    status = 0
                shots[index].append(Shot(sent, time.monotonic(), status))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(HAMMER_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [shot for client_shots in shots for shot in client_shots]


@pytest.fixture(scope="module")
def hammered(rl_dir: Path) -> list[Shot]:
    server = ServerProcess(rl_dir, args=["--rate-limit", f"pro.light={HAMMER_LIMIT}"]).start()
    try:
        token = server.token("rl-pro-hammer-app", SECRET, "rl-pro-hammer")
        shots = hammer(f"{server.api_url}/users/rl-pro-hammer-user/pac", token)
    finally:
        server.stop()
    return shots


def busiest_window(shots: list[Shot]) -> int:
    """The most accepted requests whose whole round trip lies in one second [t, t + 1).

    The server accepted each request at some instant of its round trip, so these counts never
    exceed what the server let through in that second.
    """
    accepted = [(shot.sent, shot.received) for shot in shots if shot.status == 200]
    return max(
        sum(1 for sent, received in accepted if start <= sent and received < start + 1.0)
        for start in sorted({shot.sent for shot in shots})
    )


def test_hammer_answers(hammered: list[Shot]):
    assert {shot.status for shot in hammered} == {200, 429}


def test_hammer_no_connection_errors(hammered: list[Shot]):
    assert [shot for shot in hammered if shot.status == 0] == []


def test_hammer_per_second(hammered: list[Shot]):
    assert busiest_window(hammered) <= HAMMER_LIMIT


def test_hammer_throughput(hammered: list[Shot]):
    accepted = sum(1 for shot in hammered if shot.status == 200)
    assert accepted >= HAMMER_LIMIT * (HAMMER_SECONDS - 1) * 0.5
