"""A `zoompac load` or `zoompac admin` process killed with SIGKILL changes all or nothing.

Each test runs on SQLite and on PostgreSQL. The database first contains a small account,
`crash-other`; then a fixture of 20,000 users, each with one PAC account and two dial-in
numbers, is loaded into account `crash-account`, and the loading process is killed at several
delays after its first insert. Afterwards the database must hold either none or all of the
fixture. The PostgreSQL cluster belongs to this module and stops with it.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.services import PostgresServer

USERS = 20_000
KILL_DELAYS = (0.0, 0.4, 1.2)
OTHER_FIXTURE = {
    "accounts": [
        {
            "id": "crash-other",
            "users": [
                {
                    "id": "crash-other-user",
                    "email": "user@crash-other.example.com",
                    "pac_accounts": [
                        {
                            "conference_id": 8000000001,
                            "dedicated_dial_in_number": [
                                {"number": "14155550190", "country": "US"}
                            ],
                            "global_dial_in_numbers": [{"number": "14155550191", "country": "US"}],
                        }
                    ],
                }
            ],
        }
    ]
}
NEW_NUMBERS = [
    "--dedicated",
    "14155550001:US",
    "--dedicated",
    "14155550002:US",
    "--global",
    "442030000001:GB",
    "--global",
    "442030000002:GB",
]
# Runs `python -m zoompac ARGS...` but stops before the COMMIT of the first transaction that
# inserted dial-in numbers: it writes the file named by its first argument and sleeps. Killing
# it then kills a process whose inserts have all run and none has been committed.
PAUSE_BEFORE_COMMIT = """
import pathlib, runpy, sys, time
from sqlalchemy import event
from sqlalchemy.engine import Engine

marker = pathlib.Path(sys.argv.pop(1))
inserted = set()

@event.listens_for(Engine, "before_cursor_execute")
def note_insert(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip().upper().startswith("INSERT INTO DIAL_IN_NUMBERS"):
        inserted.add(id(conn))

@event.listens_for(Engine, "commit")
def pause(conn):
    if id(conn) in inserted:
        marker.write_text("paused")
        time.sleep(120)

sys.argv[0] = "zoompac"
runpy.run_module("zoompac", run_name="__main__")
"""


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        yield server.start()
    finally:
        try:
            server.stop()
        finally:
            server.remove()


@pytest.fixture(scope="module")
def big_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write a fixture of `USERS` users in `crash-account`, as JSON because it parses faster."""
    users = [
        {
            "id": f"crash-{number:05d}",
            "email": f"user{number}@crash.example.com",
            "pac_accounts": [
                {
                    "conference_id": 7_000_000_000 + number,
                    "participant_password": "123456",
                    "listen_only_password": "654321",
                    "dedicated_dial_in_number": [{"number": "14155550100", "country": "US"}],
                    "global_dial_in_numbers": [{"number": "14155550101", "country": "US"}],
                }
            ],
        }
        for number in range(USERS)
    ]
    path = tmp_path_factory.mktemp("crash-fixture") / "big.json"
    path.write_text(json.dumps({"accounts": [{"id": "crash-account", "users": users}]}))
    return path


@dataclass
class Backend:
    """A database that zoompac commands use, with the test's own view of it."""

    name: str
    url: str
    query: Callable[[str], int]
    writing: Callable[[], bool]

    def counts(self, account: str) -> tuple[int, int, int]:
        """Count the account's committed users, PAC accounts and dial-in numbers."""
        return (
            self.query(f"SELECT count(*) FROM users WHERE account_id = '{account}'"),
            self.query(f"SELECT count(*) FROM pac_accounts WHERE account_id = '{account}'"),
            self.query(
                "SELECT count(*) FROM dial_in_numbers JOIN pac_accounts "
                "ON pac_accounts.id = dial_in_numbers.pac_account_id "
                f"WHERE pac_accounts.account_id = '{account}'"
            ),
        )


def sqlite_backend(path: Path) -> Backend:
    def query(sql: str) -> int:
        with closing(sqlite3.connect(path, timeout=10)) as connection:
            return int(connection.execute(sql).fetchone()[0])

    def writing() -> bool:
        # Only one connection at a time may hold SQLite's write lock.
        with closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as connection:
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return True
            connection.execute("ROLLBACK")
            return False

    return Backend("sqlite", f"sqlite:///{path}", query, writing)


def postgres_backend(server: PostgresServer, database: str) -> Backend:
    url = server.create_database(database)

    def query(sql: str) -> int:
        with psycopg.connect(url, autocommit=True) as connection:
            row = connection.execute(sql).fetchone()
            assert row is not None
            return int(row[0])

    def writing() -> bool:
        # An INSERT holds ROW EXCLUSIVE on the table until its transaction ends.
        return (
            query(
                "SELECT count(*) FROM pg_locks JOIN pg_class ON pg_class.oid = pg_locks.relation "
                "WHERE pg_class.relname = 'users' AND pg_locks.mode = 'RowExclusiveLock' "
                "AND pg_locks.pid <> pg_backend_pid()"
            )
            > 0
        )

    return Backend("postgresql", url, query, writing)


def zoompac(*args: str) -> list[str]:
    return [sys.executable, "-m", "zoompac", *args]


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def write_fixture(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """A migrated database that contains account `crash-other`."""
    folder = tmp_path_factory.mktemp(f"crash-{request.param}")
    if request.param == "sqlite":
        chosen = sqlite_backend(folder / "zoompac.db")
    else:
        chosen = postgres_backend(request.getfixturevalue("postgres"), "crash_safety")
    loaded = run(
        zoompac(
            "load",
            str(write_fixture(folder / "other.json", OTHER_FIXTURE)),
            "--database",
            chosen.url,
        )
    )
    assert loaded.returncode == 0, loaded.stderr
    return chosen


@dataclass
class Kill:
    """One load killed with SIGKILL: whether it was still running, and the counts after it."""

    running: bool
    counts: tuple[int, int, int]


@dataclass
class KillRun:
    kills: list[Kill]
    other_before: tuple[int, int, int]
    other_after: tuple[int, int, int]


def wait_until_writing(backend: Backend, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if backend.writing():
            return
        time.sleep(0.02)


@pytest.fixture(scope="module")
def kill_run(backend: Backend, big_fixture: Path) -> KillRun:
    """Kill a load of `big_fixture` at each of `KILL_DELAYS` after its first insert."""
    other_before = backend.counts("crash-other")
    kills = []
    for delay in KILL_DELAYS:
        process = subprocess.Popen(
            zoompac("load", str(big_fixture), "--database", backend.url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_writing(backend, process)
        time.sleep(delay)
        running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills.append(Kill(running, backend.counts("crash-account")))
    return KillRun(kills, other_before, backend.counts("crash-other"))


def test_kills_hit_running_loads(kill_run: KillRun) -> None:
    # A load that ended before its kill would make the other tests prove nothing.
    assert [kill.running for kill in kill_run.kills] == [True] * len(KILL_DELAYS)


def test_killed_load_is_all_or_nothing(kill_run: KillRun) -> None:
    allowed = {(0, 0, 0), (USERS, USERS, 2 * USERS)}
    assert [kill.counts for kill in kill_run.kills if kill.counts not in allowed] == []


def test_killed_load_keeps_other_data(kill_run: KillRun) -> None:
    assert kill_run.other_after == kill_run.other_before


def test_load_after_kills(kill_run: KillRun, backend: Backend, tmp_path: Path) -> None:
    # Loading the killed load's account, user ids, e-mails and conference ids again fails if a
    # row or a lock of a killed load is left behind. After a load that finished before its
    # kill, those are taken, so the check needs the empty state.
    empty = kill_run.kills[-1].counts == (0, 0, 0)
    account, prefix = ("crash-account", "crash") if empty else ("crash-retry", "retry")
    small = {
        "accounts": [
            {
                "id": account,
                "users": [
                    {
                        "id": f"{prefix}-{number:05d}",
                        "email": f"user{number}@{prefix}.example.com",
                        "pac_accounts": [{"conference_id": 7_000_000_000 + number}],
                    }
                    for number in range(3)
                ],
            }
        ]
    }
    path = write_fixture(tmp_path / "small.json", small)
    result = run(zoompac("load", str(path), "--database", backend.url))
    assert result.returncode == 0, result.stderr
    assert backend.counts(account) == (3, 3, 0)


def admin_pac_create(backend: Backend) -> list[str]:
    return ["admin", "pac", "create", "crash-other-user", *NEW_NUMBERS, "--database", backend.url]


def test_killed_admin_change_changes_nothing(backend: Backend, tmp_path: Path) -> None:
    before = backend.counts("crash-other")
    marker = tmp_path / "paused"
    command = [sys.executable, "-c", PAUSE_BEFORE_COMMIT, str(marker), *admin_pac_create(backend)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    paused = marker.exists() and process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert paused
    assert backend.counts("crash-other") == before


def test_admin_change_commits_whole(backend: Backend) -> None:
    before = backend.counts("crash-other")
    result = run(zoompac(*admin_pac_create(backend)))
    assert result.returncode == 0, result.stderr
    assert backend.counts("crash-other") == (before[0], before[1] + 1, before[2] + 4)
