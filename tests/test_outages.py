"""PostgreSQL or Redis going away under a running server, and coming back.

While a dependency is unreachable, each request must get Zoom's 503 body within the dependency's
timeout (POSTGRES_TIMEOUT_SECONDS=3, REDIS_TIMEOUT_SECONDS=2), the server must log the outage
once, without credentials, and it must serve again by itself once the dependency is back.
Every client below waits at most `CLIENT_TIMEOUT` seconds, so a hang fails the test instead of
blocking it. The PostgreSQL cluster and the Redis server belong to this module.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis

from tests.helpers import SEED_BODY, bearer
from tests.server import ServerProcess
from tests.services import PostgresServer, RedisServer

UNAVAILABLE = {"code": 503, "message": "The service is temporarily unavailable. Try again later."}
PER_SECOND_LIMITED = {
    "code": 429,
    "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
}
CLIENT_TIMEOUT = 10.0
RECOVERY_SECONDS = 15.0
# Credentials that must never reach the log. PostgreSQL trusts loopback connections here, so it
# does not check the role's password, but the database URL given to zoompac contains it.
POSTGRES_ROLE = "zoompac_app"
POSTGRES_PASSWORD = "pg-Outage-Secret-4711"
REDIS_PASSWORD = "redis-Outage-Secret-0815"
PAC_PATH = "/users/pac.user@example.com/pac"


def start_redis(server: RedisServer) -> None:
    """Start Redis, on its old port if it had one, and require `REDIS_PASSWORD` from then on."""
    server.start()
    redis.Redis(port=server.port, socket_timeout=5).config_set("requirepass", REDIS_PASSWORD)


@dataclass
class Services:
    postgres: PostgresServer
    redis: RedisServer
    database: str


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    postgres = PostgresServer()
    redis_server = RedisServer(tmp_path_factory.mktemp("outage-redis"))
    try:
        postgres.start()
        start_redis(redis_server)
        with psycopg.connect(postgres.url(), autocommit=True) as connection:
            connection.execute(f"CREATE ROLE {POSTGRES_ROLE} LOGIN PASSWORD '{POSTGRES_PASSWORD}'")
            connection.execute(f"CREATE DATABASE outage OWNER {POSTGRES_ROLE}")
        database = (
            f"postgresql://{POSTGRES_ROLE}:{POSTGRES_PASSWORD}@127.0.0.1:{postgres.port}/outage"
        )
        yield Services(postgres, redis_server, database)
    finally:
        redis_server.stop()
        try:
            postgres.stop()
        finally:
            postgres.remove()


@dataclass
class Target:
    server: ServerProcess
    token: str

    def get(self, client: httpx.Client) -> httpx.Response:
        return client.get(f"{self.server.api_url}{PAC_PATH}", headers=bearer(self.token))


@pytest.fixture(scope="module")
def target(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    server = ServerProcess(
        tmp_path_factory.mktemp("outage-server"),
        args=[
            "--database",
            services.database,
            "--redis",
            f"redis://:{REDIS_PASSWORD}@127.0.0.1:{services.redis.port}/0",
            "--demo",
            "--no-control-plane",
        ],
    ).start()
    try:
        yield Target(server, server.token())
    finally:
        server.stop()


def outcome(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


def is_right_answer(result: tuple[int, Any] | str) -> bool:
    """Whether a response is one the server may give at any time of an outage."""
    return result in ((200, SEED_BODY), (503, UNAVAILABLE), (429, PER_SECOND_LIMITED))


@dataclass
class Poller:
    """Requests the demo user's PAC accounts every 50 ms in a thread, keeping every outcome.

    An outcome is `(status, body)`, or the name of the exception when no response came.
    """

    target: Target
    results: list[tuple[int, Any] | str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=CLIENT_TIMEOUT) as client:
            while not self._stop.is_set():
                try:
                    self.results.append(outcome(self.target.get(client)))
                except (httpx.HTTPError, ValueError) as exc:
                    self.results.append(type(exc).__name__)
                time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()


@contextmanager
def polling(target: Target) -> Iterator[Poller]:
    poller = Poller(target)
    thread = threading.Thread(target=poller.run)
    thread.start()
    try:
        yield poller
    finally:
        poller.stop()
        thread.join(timeout=CLIENT_TIMEOUT + 5)


def wait_for_service(target: Target) -> bool:
    """Request until a 200 comes back, and return whether one did within `RECOVERY_SECONDS`."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    with httpx.Client(timeout=CLIENT_TIMEOUT) as client:
        while time.monotonic() < deadline:
            try:
                if target.get(client).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    return False


def try_request(target: Target) -> tuple[int, Any] | str:
    with httpx.Client(timeout=CLIENT_TIMEOUT) as client:
        try:
            return outcome(target.get(client))
        except (httpx.HTTPError, ValueError) as exc:
            return type(exc).__name__


@dataclass
class OutageRun:
    """What clients saw and the server logged while one dependency was away and came back."""

    during: list[tuple[int, Any] | str]
    concurrent: list[tuple[int, Any] | str]
    log: str
    recovered: bool
    polled: list[tuple[int, Any] | str]


def run_outage(
    target: Target, stop: Callable[[], object], start: Callable[[], object]
) -> OutageRun:
    """Stop a dependency, send requests, start it again and wait for the service to return."""
    assert wait_for_service(target)
    log_start = len(target.server.log())
    with polling(target) as poller:
        stop()
        try:
            during = [try_request(target) for _ in range(5)]
            with ThreadPoolExecutor(20) as pool:
                concurrent = list(pool.map(lambda _: try_request(target), range(20)))
        finally:
            start()
        recovered = wait_for_service(target)
    return OutageRun(during, concurrent, target.server.log()[log_start:], recovered, poller.results)


@pytest.fixture(scope="module")
def redis_outage(services: Services, target: Target) -> OutageRun:
    return run_outage(target, services.redis.stop, lambda: start_redis(services.redis))


@pytest.fixture(scope="module")
def postgres_outage(services: Services, target: Target) -> OutageRun:
    return run_outage(target, lambda: services.postgres.stop(), services.postgres.start)


def failure_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if "is unreachable" in line]


def test_redis_down_503(redis_outage: OutageRun) -> None:
    assert redis_outage.during == [(503, UNAVAILABLE)] * 5


def test_redis_concurrent_503(redis_outage: OutageRun) -> None:
    assert redis_outage.concurrent == [(503, UNAVAILABLE)] * 20


def test_redis_logged_once(redis_outage: OutageRun) -> None:
    assert len(failure_lines(redis_outage.log)) == 1


def test_redis_log_names_target(redis_outage: OutageRun, services: Services) -> None:
    expected = f"Redis at redis://127.0.0.1:{services.redis.port}/0 is unreachable"
    assert expected in failure_lines(redis_outage.log)[0]


def test_redis_log_hides_password(redis_outage: OutageRun) -> None:
    assert REDIS_PASSWORD not in redis_outage.log


def test_redis_recovers(redis_outage: OutageRun) -> None:
    assert redis_outage.recovered


def test_redis_no_wrong_answers(redis_outage: OutageRun) -> None:
    assert (503, UNAVAILABLE) in redis_outage.polled
    assert [result for result in redis_outage.polled if not is_right_answer(result)] == []


def test_postgres_down_503(postgres_outage: OutageRun) -> None:
    assert postgres_outage.during == [(503, UNAVAILABLE)] * 5


def test_postgres_concurrent_503(postgres_outage: OutageRun) -> None:
    assert postgres_outage.concurrent == [(503, UNAVAILABLE)] * 20


def test_postgres_logged_once(postgres_outage: OutageRun) -> None:
    assert len(failure_lines(postgres_outage.log)) == 1


def test_postgres_log_names_target(postgres_outage: OutageRun, services: Services) -> None:
    # The role name is no secret, so only the password is masked.
    expected = (
        f"The database at postgresql+psycopg://{POSTGRES_ROLE}:***@127.0.0.1:"
        f"{services.postgres.port}/outage is unreachable"
    )
    assert expected in failure_lines(postgres_outage.log)[0]


def test_postgres_log_hides_password(postgres_outage: OutageRun) -> None:
    assert POSTGRES_PASSWORD not in postgres_outage.log


def test_postgres_recovers(postgres_outage: OutageRun) -> None:
    assert postgres_outage.recovered


def test_postgres_no_wrong_answers(postgres_outage: OutageRun) -> None:
    assert (503, UNAVAILABLE) in postgres_outage.polled
    assert [result for result in postgres_outage.polled if not is_right_answer(result)] == []


def test_postgres_down_token_503(services: Services, target: Target) -> None:
    assert wait_for_service(target)
    services.postgres.stop()
    try:
        response = httpx.post(
            target.server.token_url,
            auth=("demo-client", "demo-secret"),
            data={"grant_type": "account_credentials", "account_id": "demo-account"},
            timeout=CLIENT_TIMEOUT,
        )
    finally:
        services.postgres.start()
    assert outcome(response) == (503, UNAVAILABLE)


def process_state(pid: int) -> str:
    """Return the state letter of /proc/PID/stat, such as R, S or T (stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "gone"
    return stat.rsplit(")", 1)[1].split()[0]


def wait_for_state(pid: int, wanted: Callable[[str], bool]) -> None:
    deadline = time.monotonic() + 5
    while not wanted(process_state(pid)) and time.monotonic() < deadline:
        time.sleep(0.02)


@contextmanager
def frozen(pids: list[int], wrapper: int | None = None) -> Iterator[None]:
    """Stop the processes with SIGSTOP, as a host that hangs without closing its sockets does.

    `runuser`, the `wrapper` of a PostgreSQL started as root, stops itself when its child stops
    and continues the child when it is continued itself. It is continued only once it has
    stopped, or it would stop later and stay stopped.
    """
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    if wrapper is not None:
        wait_for_state(wrapper, lambda state: state == "T")
    try:
        yield
    finally:
        for pid in [*pids, *([wrapper] if wrapper is not None else [])]:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        if wrapper is not None:
            wait_for_state(wrapper, lambda state: state != "T")


def postgres_pids(server: PostgresServer) -> list[int]:
    """Return the postmaster and its children."""
    postmaster = int(Path(server.data_dir, "postmaster.pid").read_text().split()[0])
    children = subprocess.run(
        ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [postmaster, *map(int, children)]


def test_hung_redis_503(services: Services, target: Target) -> None:
    assert wait_for_service(target)
    assert services.redis.process is not None
    with frozen([services.redis.process.pid]):
        result = try_request(target)
    assert result == (503, UNAVAILABLE)
    assert wait_for_service(target)


def test_hung_postgres_503(services: Services, target: Target) -> None:
    assert wait_for_service(target)
    assert services.postgres.process is not None
    wrapper = services.postgres.process.pid if os.geteuid() == 0 else None
    with frozen(postgres_pids(services.postgres), wrapper):
        result = try_request(target)
    assert result == (503, UNAVAILABLE)
    assert wait_for_service(target)
