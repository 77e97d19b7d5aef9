"""State kept in the SQLite file across server restarts, and the schema migrations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from tests.helpers import (
    CONTRACT_ACCOUNT,
    CONTRACT_FIXTURE,
    CONTRACT_SECRET,
    SEED_BODY,
    bearer,
    load_fixture_file,
)
from tests.server import ServerProcess

ServerFactory = Callable[..., ServerProcess]

MIGRATIONS_DIR = str(resources.files("zoompac").joinpath("storage/migrations"))
TABLES = {
    "accounts",
    "apps",
    "users",
    "pac_accounts",
    "dial_in_numbers",
    "access_tokens",
    "server_state",
    "alembic_version",
}


def get_pac(server: ServerProcess, user_ref: str, token: str) -> httpx.Response:
    return httpx.get(f"{server.api_url}/users/{user_ref}/pac", headers=bearer(token))


def query(server: ServerProcess, sql: str) -> list[tuple[object, ...]]:
    """Run one query on a server's database, whichever backend the test run uses."""
    engine = create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def table_names(server: ServerProcess) -> set[str]:
    engine = create_engine(server.database_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def newest_revision() -> str | None:
    return ScriptDirectory(MIGRATIONS_DIR).get_current_head()


@dataclass
class Restarted:
    """A server started twice with `--demo` on one database, and a token from the first run."""

    server: ServerProcess
    token_before: str
    contract_token_before: str


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restarted]:
    data_dir = tmp_path_factory.mktemp("restart")
    first = ServerProcess(data_dir, args=["--demo"])
    load_fixture_file(first.database_url, CONTRACT_FIXTURE)
    first.start()
    token_before = first.token()
    contract_token_before = first.token("contract-admin", CONTRACT_SECRET, CONTRACT_ACCOUNT)
    first.stop()

    second = ServerProcess(data_dir, args=["--demo"]).start()
    yield Restarted(second, token_before, contract_token_before)
    second.stop()


def test_token_survives_restart(restarted: Restarted) -> None:
    response = get_pac(restarted.server, "pac.user@example.com", restarted.token_before)
    assert response.json() == SEED_BODY


def test_second_demo_start_keeps_running(restarted: Restarted) -> None:
    assert restarted.server.process is not None
    assert restarted.server.process.poll() is None


def test_demo_account_once(restarted: Restarted) -> None:
    rows = query(restarted.server, "SELECT id FROM accounts WHERE id = 'demo-account'")
    assert rows == [("demo-account",)]


def test_demo_users_once(restarted: Restarted) -> None:
    rows = query(restarted.server, "SELECT count(*) FROM users WHERE account_id = 'demo-account'")
    assert rows == [(3,)]


def test_demo_pac_accounts_once(restarted: Restarted) -> None:
    rows = query(
        restarted.server,
        "SELECT count(*) FROM pac_accounts WHERE account_id = 'demo-account'",
    )
    assert rows == [(1,)]


def test_demo_dial_in_numbers_once(restarted: Restarted) -> None:
    # Dial-in numbers have no unique key, so a second load would add rows here first.
    rows = query(
        restarted.server,
        "SELECT count(*) FROM dial_in_numbers AS d JOIN pac_accounts AS p"
        " ON d.pac_account_id = p.id WHERE p.account_id = 'demo-account'",
    )
    assert rows == [(2,)]


def test_demo_body_after_restart(restarted: Restarted) -> None:
    token = restarted.server.token()
    assert get_pac(restarted.server, "pac.user@example.com", token).json() == SEED_BODY


def test_loaded_data_survives_restart(restarted: Restarted) -> None:
    token = restarted.server.token("contract-admin", CONTRACT_SECRET, CONTRACT_ACCOUNT)
    response = get_pac(restarted.server, "multi.pac@example.com", token)
    assert len(response.json()["pac_accounts"]) == 2


def test_loaded_app_token_survives_restart(restarted: Restarted) -> None:
    response = get_pac(restarted.server, "a+b@example.com", restarted.contract_token_before)
    assert response.status_code == 200


def test_load_into_running_server(start_server: ServerFactory) -> None:
    server = start_server("--demo")
    load_fixture_file(server.database_url, CONTRACT_FIXTURE)
    token = server.token("contract-admin", CONTRACT_SECRET, CONTRACT_ACCOUNT)
    assert get_pac(server, "a+b@example.com", token).status_code == 200


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server that created its database from nothing."""
    server = ServerProcess(tmp_path_factory.mktemp("fresh")).start()
    yield server
    server.stop()


def test_fresh_database_tables(fresh_server: ServerProcess) -> None:
    assert table_names(fresh_server) >= TABLES


def test_fresh_database_newest_revision(fresh_server: ServerProcess) -> None:
    assert query(fresh_server, "SELECT version_num FROM alembic_version") == [(newest_revision(),)]


def test_older_revision_upgraded(start_server: ServerFactory, tmp_path: Path) -> None:
    # Build a database at the first revision, as an older zoompac release left it.
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    engine = create_engine(ServerProcess(tmp_path).database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    engine.dispose()

    server = start_server()
    assert query(server, "SELECT version_num FROM alembic_version") == [(newest_revision(),)]
