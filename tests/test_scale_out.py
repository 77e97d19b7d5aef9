"""Several zoompac servers over one PostgreSQL database and one Redis act as one deployment.

Servers A and B listen on two ports and share the database and the Redis key prefix, as two
machines behind a load balancer do. One more server runs `serve --workers 2` on a single port.
The PostgreSQL cluster and the Redis server belong to this module and stop with it.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml

from tests.helpers import FIXTURES_DIR, INVALID_TOKEN, bearer, load_fixture_file
from tests.server import ServerProcess
from tests.services import PostgresServer, RedisServer

FIXTURE = FIXTURES_DIR / "scale_out.yaml"
SECRET = "scale-secret"
ADMIN_TOKEN = "scale-out-admin-token-0123456789abcdef"
SHARED_PREFIX = "scale-shared"
PER_SECOND_LIMITED = {
    "code": 429,
    "message": "You have reached the maximum per-second rate limit for this API. Try again later.",
}
LIGHT_LIMIT = 10
WORKERS_LIGHT_LIMIT = 5
# Letters of both cases, digits, "-" and "_": a locale-aware collation sorts these differently
# from byte order, which is the order the Users API promises.
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
WALK_USERS = 500
WALK_PAGE_SIZE = 7


@dataclass
class Deployment:
    postgres: PostgresServer
    redis: RedisServer
    database: str


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A PostgreSQL database that contains `tests/fixtures/scale_out.yaml`, and a Redis server."""
    postgres = PostgresServer()
    redis_server = RedisServer(tmp_path_factory.mktemp("scale-redis"))
    try:
        postgres.start()
        redis_server.start()
        database = postgres.create_database("scale_out")
        load_fixture_file(database, FIXTURE)
        yield Deployment(postgres, redis_server, database)
    finally:
        redis_server.stop()
        try:
            postgres.stop()
        finally:
            postgres.remove()


def start_server(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> ServerProcess:
    environment = {"ZOOMPAC_ADMIN_TOKEN": ADMIN_TOKEN, **(env or {})}
    return ServerProcess(data_dir, args=list(args), env=environment).start()


@pytest.fixture(scope="module")
def pair(
    deployment: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Servers A and B: two ports, one database, one Redis key prefix."""
    args = [
        "--database",
        deployment.database,
        "--redis",
        deployment.redis.url,
        "--rate-limit",
        f"pro.light={LIGHT_LIMIT}",
        "--revoke-older-tokens",
    ]
    env = {"ZOOMPAC_REDIS_PREFIX": SHARED_PREFIX}
    servers: list[ServerProcess] = []
    try:
        for name in ("a", "b"):
            servers.append(start_server(tmp_path_factory.mktemp(f"server-{name}"), *args, env=env))
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def workers(
    deployment: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """`serve --workers 2` on one port, over the same database with a Redis prefix of its own."""
    server = start_server(
        tmp_path_factory.mktemp("server-workers"),
        "--database",
        deployment.database,
        "--redis",
        deployment.redis.url,
        "--workers",
        "2",
        "--rate-limit",
        f"pro.light={WORKERS_LIGHT_LIMIT}",
        env={"ZOOMPAC_REDIS_PREFIX": "scale-workers"},
    )
    yield server
    server.stop()


def token(server: ServerProcess, account: str) -> str:
    return server.token(f"{account}-app", SECRET, account)


def pac_body(conference_id: str, password: str, listen_only: str, **numbers: Any) -> Any:
    return {
        "pac_accounts": [
            {
                "dedicated_dial_in_number": numbers.get("dedicated", []),
                "global_dial_in_numbers": numbers.get("global", []),
                "conference_id": conference_id,
                "participant_password": password,
                "listen_only_password": listen_only,
            }
        ]
    }


RATE_BODY = pac_body(
    "6100000001", "610001", "620001", dedicated=[{"number": "14155550111", "country": "US"}]
)
WORKERS_BODY = pac_body(
    "6100000003", "610003", "620003", **{"global": [{"number": "442030000003", "country": "GB"}]}
)
BURST_BODY = pac_body("6100000004", "610004", "620004")


@dataclass(frozen=True)
class Exchange:
    """One request as a client saw it: monotonic send and receive times, status and body."""

    sent: float
    received: float
    status: int
    body: Any


def get_pac(
    client: httpx.Client, server: ServerProcess, account: str, bearer_token: str
) -> Exchange:
    sent = time.monotonic()
    response = client.get(
        f"{server.api_url}/users/user@{account}.example.com/pac", headers=bearer(bearer_token)
    )
    return Exchange(sent, time.monotonic(), response.status_code, response.json())


def max_accepted_per_window(exchanges: list[Exchange], width: float = 1.0) -> int:
    """Return the largest number of 200s whose [sent, received] lie within one `width` window.

    A window that contains a set of intervals can slide right until it starts at the earliest
    send time among them, so windows starting at send times are the only ones to check.
    """
    accepted = [item for item in exchanges if item.status == 200]
    return max(
        (
            sum(
                1
                for other in accepted
                if other.sent >= start.sent and other.received <= start.sent + width
            )
            for start in accepted
        ),
        default=0,
    )


def run_together(count: int, work: Any) -> list[Exchange]:
    """Run `work(index)` in `count` threads released at once, and return all their exchanges."""
    barrier = threading.Barrier(count)
    results: list[list[Exchange]] = [[] for _ in range(count)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as exc:  # Reported by the test thread below.
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return [exchange for part in results for exchange in part]


def test_created_on_a_read_on_b(pair: tuple[ServerProcess, ServerProcess]) -> None:
    server_a, server_b = pair
    fixture = {
        "accounts": [
            {
                "id": "so-created",
                "apps": [
                    {
                        "client_id": "so-created-app",
                        "client_secret": SECRET,
                        "scopes": ["pac:read:admin", "user:read:admin"],
                    }
                ],
                "users": [
                    {
                        "id": "so-created-user",
                        "email": "user@so-created.example.com",
                        "pac_accounts": [
                            {
                                "conference_id": 6100000009,
                                "participant_password": "610009",
                                "listen_only_password": "620009",
                            }
                        ],
                    }
                ],
            }
        ]
    }
    created = httpx.post(
        f"{server_a.base_url}/zoompac/load",
        content=yaml.safe_dump(fixture),
        headers={**bearer(ADMIN_TOKEN), "Content-Type": "application/yaml"},
        timeout=30,
    )
    assert created.status_code == 200

    with httpx.Client(timeout=10) as client:
        exchange = get_pac(client, server_b, "so-created", token(server_b, "so-created"))
    assert exchange.body == pac_body("6100000009", "610009", "620009")


def test_limit_holds_across_servers(pair: tuple[ServerProcess, ServerProcess]) -> None:
    bearer_token = token(pair[0], "so-rate")
    duration = 3.0

    def client_loop(index: int) -> list[Exchange]:
        server = pair[index % 2]
        exchanges = []
        with httpx.Client(timeout=10) as client:
            deadline = time.monotonic() + duration
            while time.monotonic() < deadline:
                exchanges.append(get_pac(client, server, "so-rate", bearer_token))
        return exchanges

    exchanges = run_together(32, client_loop)

    assert {item.status for item in exchanges} <= {200, 429}
    assert all(item.body == RATE_BODY for item in exchanges if item.status == 200)
    assert all(item.body == PER_SECOND_LIMITED for item in exchanges if item.status == 429)
    assert max_accepted_per_window(exchanges) <= LIGHT_LIMIT
    # A limiter that rejects nearly everything must fail too: three seconds allow about 30.
    assert sum(1 for item in exchanges if item.status == 200) >= 2 * LIGHT_LIMIT


def test_revoked_on_a_rejected_by_b(pair: tuple[ServerProcess, ServerProcess]) -> None:
    server_a, server_b = pair
    first = token(server_a, "so-revoke")
    with httpx.Client(timeout=10) as client:
        before = get_pac(client, server_b, "so-revoke", first)
        second = token(server_a, "so-revoke")
        after = get_pac(client, server_b, "so-revoke", first)
        with_second = get_pac(client, server_b, "so-revoke", second)

    assert before.status == 200
    assert after.status == 401
    assert after.body == INVALID_TOKEN
    assert with_second.status == 200


def test_concurrent_mints_revoke(
    deployment: Deployment, pair: tuple[ServerProcess, ServerProcess]
) -> None:
    # Each server revokes the app's valid tokens, then stores its new one. The test holds a row
    # lock on the valid token so that both mints reach that step before either commits. Of two
    # new tokens, the older one must end up revoked.
    token(pair[0], "so-race")
    minted: list[httpx.Response | None] = [None, None]

    def mint(index: int) -> None:
        minted[index] = httpx.post(
            pair[index].token_url,
            auth=("so-race-app", SECRET),
            data={"grant_type": "account_credentials", "account_id": "so-race"},
            timeout=30,
        )

    threads = [threading.Thread(target=mint, args=(index,)) for index in range(2)]
    with psycopg.connect(deployment.database) as connection:
        connection.execute(
            "SELECT access_tokens.id FROM access_tokens "
            "JOIN apps ON apps.id = access_tokens.app_id "
            "WHERE apps.client_id = 'so-race-app' AND NOT access_tokens.revoked FOR UPDATE"
        )
        for thread in threads:
            thread.start()
        # Both mints then wait for a lock. This wait stays below their 3-second statement timeout.
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            waiting = connection.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            row = waiting.fetchone()
            if row is not None and row[0] >= 2:
                break
            time.sleep(0.01)
        connection.commit()
    for thread in threads:
        thread.join(timeout=30)

    assert [None if response is None else response.status_code for response in minted] == [200, 200]
    with httpx.Client(timeout=10) as client:
        statuses = [
            get_pac(client, pair[1], "so-race", response.json()["access_token"]).status
            for response in minted
            if response is not None
        ]
    assert sorted(statuses) == [200, 401]


def test_workers_start_two_processes(workers: ServerProcess) -> None:
    assert workers.process is not None
    children = subprocess.run(
        ["ps", "-o", "args=", "--ppid", str(workers.process.pid)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert children.count("multiprocessing.spawn") == 2


def test_workers_do_without_cryptography(workers: ServerProcess) -> None:
    # Each worker imports the server's modules itself, and none may load `cryptography`. A
    # token that fails its signature check makes a worker import PyJWT, and counts against no
    # rate limit. New connections spread the requests over both workers.
    assert workers.process is not None
    forged = "eyJhbGciOiJIUzUxMiJ9.eyJqdGkiOiJ4In0.c2lnbmF0dXJl"
    for _ in range(6):
        response = httpx.get(f"{workers.api_url}/users/me/pac", headers=bearer(forged))
        assert response.json() == INVALID_TOKEN
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(workers.process.pid)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for pid in [workers.process.pid, *map(int, children)]:
        assert "cryptography" not in Path(f"/proc/{pid}/maps").read_text()


def test_workers_answer_as_one(workers: ServerProcess) -> None:
    # Tokens and requests each go over a new connection, so the kernel hands them to either
    # worker. Every token must work on every connection. The pause keeps the requests below
    # the limit of 5 per second.
    tokens = [token(workers, "so-workers") for _ in range(3)]
    bodies = []
    for bearer_token in tokens:
        for _ in range(2):
            with httpx.Client(timeout=10) as client:
                bodies.append(get_pac(client, workers, "so-workers", bearer_token).body)
            time.sleep(0.3)

    assert bodies == [WORKERS_BODY] * 6


def test_workers_share_limits(workers: ServerProcess) -> None:
    bearer_token = token(workers, "so-burst")

    def one_request(_index: int) -> list[Exchange]:
        with httpx.Client(timeout=10) as client:
            return [get_pac(client, workers, "so-burst", bearer_token)]

    exchanges = run_together(20, one_request)

    assert {item.status for item in exchanges} <= {200, 429}
    assert all(item.body == BURST_BODY for item in exchanges if item.status == 200)
    assert max_accepted_per_window(exchanges) <= WORKERS_LIGHT_LIMIT
    # The bucket starts empty, so the first five requests that reach it are accepted.
    assert sum(1 for item in exchanges if item.status == 200) >= WORKERS_LIGHT_LIMIT


def test_workers_need_redis(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if name != "ZOOMPAC_REDIS"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "zoompac",
            "serve",
            "--port",
            "0",
            "--workers",
            "2",
            "--database",
            f"sqlite:///{tmp_path / 'zoompac.db'}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--redis" in result.stderr


def test_prefix_option() -> None:
    # The Redis key prefix is a setting (ZOOMPAC_REDIS_PREFIX) like --redis, so a deployment
    # configured on the command line needs an option for it too.
    result = subprocess.run(
        [sys.executable, "-m", "zoompac", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "--redis-prefix" in result.stdout


def start_together(count: int, data_dir: Path, *args: str) -> list[ServerProcess | str]:
    """Start `count` servers at once, and return each server or the error that stopped it."""
    outcomes: list[ServerProcess | str] = ["not started"] * count
    servers = []
    for index in range(count):
        folder = data_dir / f"server-{index}"
        folder.mkdir()
        server = ServerProcess(folder, args=list(args), env={"ZOOMPAC_ADMIN_TOKEN": ADMIN_TOKEN})
        # On the ZOOMPAC_TEST_BACKEND=postgres run this creates a database, which must not
        # happen in several threads at once.
        _ = server.database_url
        servers.append(server)

    def start(index: int) -> None:
        try:
            outcomes[index] = servers[index].start()
        except Exception as exc:  # Returned to the test, which asserts on it.
            outcomes[index] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=start, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def stop_all(outcomes: list[ServerProcess | str]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, ServerProcess):
            outcome.stop()


def test_concurrent_starts(deployment: Deployment, tmp_path: Path) -> None:
    # Every start migrates the new, empty database, and the advisory lock lets one of them do it.
    database = deployment.postgres.create_database("concurrent_starts")
    outcomes = start_together(3, tmp_path, "--database", database, "--redis", deployment.redis.url)
    try:
        errors = [outcome for outcome in outcomes if isinstance(outcome, str)]
    finally:
        stop_all(outcomes)
    assert errors == []


def test_concurrent_starts_with_fixture(deployment: Deployment, tmp_path: Path) -> None:
    # Machines of one deployment start with the same options, fixture included. Each must
    # either load the fixture or find it loaded.
    database = deployment.postgres.create_database("concurrent_fixture_starts")
    outcomes = start_together(
        3,
        tmp_path,
        "--database",
        database,
        "--redis",
        deployment.redis.url,
        "--fixture",
        str(FIXTURE),
    )
    try:
        errors = [outcome for outcome in outcomes if isinstance(outcome, str)]
    finally:
        stop_all(outcomes)
    assert errors == []


def test_seeded_servers_mint_tokens(deployment: Deployment, tmp_path: Path) -> None:
    database = deployment.postgres.create_database("seeded")
    load_fixture_file(database, FIXTURE)
    # Only the first start of a database draws random bytes for the token-signing key. Once it
    # exists, servers with one seed begin at the same point of their random sequence.
    start_server(tmp_path, "--database", database).stop()
    args = ["--database", database, "--redis", deployment.redis.url, "--seed", "5"]
    servers = [start_server(tmp_path, *args) for _ in range(2)]
    try:
        statuses = [
            httpx.post(
                server.token_url,
                auth=("so-rate-app", SECRET),
                data={"grant_type": "account_credentials", "account_id": "so-rate"},
                timeout=10,
            ).status_code
            for server in servers
        ]
    finally:
        for server in servers:
            server.stop()
    assert statuses == [200, 200]


def walk_users(server: ServerProcess, bearer_token: str) -> list[str]:
    """Return the ids of every page of `GET /v2/users?page_size=7`, in the order served."""
    ids: list[str] = []
    page_token = ""
    with httpx.Client(timeout=10) as client:
        while True:
            response = client.get(
                f"{server.api_url}/users",
                params={"page_size": WALK_PAGE_SIZE, "next_page_token": page_token},
                headers=bearer(bearer_token),
            )
            response.raise_for_status()
            page = response.json()
            ids += [user["id"] for user in page["users"]]
            page_token = page["next_page_token"]
            if not page_token:
                return ids


def walk_fixture(path: Path) -> list[str]:
    """Write a fixture of `WALK_USERS` users with random ids, and return the ids."""
    generator = random.Random(7_260_417)
    ids = sorted({"".join(generator.choices(ID_ALPHABET, k=22)) for _ in range(WALK_USERS)})
    document = {
        "accounts": [
            {
                "id": "walk-account",
                "apps": [
                    {
                        "client_id": "walk-app",
                        "client_secret": SECRET,
                        "scopes": ["user:read:admin"],
                    }
                ],
                "users": [
                    {"id": user_id, "email": f"walk{number}@example.com"}
                    for number, user_id in enumerate(ids)
                ],
            }
        ]
    }
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return ids


def test_users_walk_matches_sqlite(deployment: Deployment, tmp_path: Path) -> None:
    ids = walk_fixture(tmp_path / "walk.yaml")
    # ICU's English collation puts "a" before "B", but byte order puts "B" first.
    with psycopg.connect(deployment.postgres.url(), autocommit=True) as connection:
        connection.execute(
            "CREATE DATABASE walk TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en' "
            "LOCALE 'C.UTF-8'"
        )
    postgres_url = deployment.postgres.url("walk")
    sqlite_url = f"sqlite:///{tmp_path / 'walk.db'}"
    walks = {}
    for name, url in (("postgresql", postgres_url), ("sqlite", sqlite_url)):
        load_fixture_file(url, tmp_path / "walk.yaml")
        (tmp_path / name).mkdir()
        server = start_server(tmp_path / name, "--database", url, "--no-rate-limits")
        try:
            walks[name] = walk_users(server, server.token("walk-app", SECRET, "walk-account"))
        finally:
            server.stop()
    with psycopg.connect(postgres_url) as connection:
        locale_order = [row[0] for row in connection.execute("SELECT id FROM users ORDER BY id")]

    byte_order = sorted(ids, key=str.encode)
    # Without this difference the comparison below could not catch a locale-ordered walk.
    assert locale_order != byte_order
    assert walks["postgresql"] == byte_order
    assert walks["sqlite"] == byte_order
