"""`zoompac load FILE` as a child process over real SQLite files."""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.server import ServerProcess
from zoompac.domain.secrets import hash_client_secret

ServerFactory = Callable[..., ServerProcess]

ACCOUNT_ID = "load-account"
CLIENT_ID = "load-client"
CLIENT_SECRET = "load-secret-7Qx"
FIRST_EMAIL = "first.loader@example.com"
SECOND_EMAIL = "second.loader@example.com"
TABLES = ("accounts", "apps", "users", "pac_accounts", "dial_in_numbers")

BASE_DOCUMENT: dict[str, Any] = {
    "version": 1,
    "accounts": [
        {
            "id": ACCOUNT_ID,
            "name": "Load test account",
            "plan": "business",
            "apps": [
                {
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "scopes": ["pac:read:admin"],
                }
            ],
            "users": [
                {
                    "id": "loadUser1",
                    "email": FIRST_EMAIL,
                    "pac_accounts": [
                        {
                            "conference_id": 222222,
                            "participant_password": "1234",
                            "listen_only_password": "5678",
                            "dedicated_dial_in_number": [{"number": "15550100", "country": "US"}],
                            "global_dial_in_numbers": [{"number": "15550199", "country": "US"}],
                        }
                    ],
                },
                {"email": SECOND_EMAIL, "pac_enabled": False},
            ],
        }
    ],
}
BASE_PAC_BODY = {
    "pac_accounts": [
        {
            "dedicated_dial_in_number": [{"number": "15550100", "country": "US"}],
            "global_dial_in_numbers": [{"number": "15550199", "country": "US"}],
            "conference_id": "222222",
            "participant_password": "1234",
            "listen_only_password": "5678",
        }
    ]
}
BASE_SUMMARY = "Loaded 1 account(s), 1 app(s), 2 user(s) and 1 PAC account(s) from {file}."


def base_document() -> dict[str, Any]:
    return copy.deepcopy(BASE_DOCUMENT)


def write_document(path: Path, document: dict[str, Any]) -> Path:
    """Write `document` as JSON if `path` ends in .json, else as YAML."""
    if path.suffix == ".json":
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def zoompac_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Copy the environment without ZOOMPAC_* and XDG_DATA_HOME, then add `extra`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ZOOMPAC_") and name != "XDG_DATA_HOME"
    }
    return {**env, **(extra or {})}


def run_load(
    file: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zoompac", "load", str(file), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=zoompac_env(env),
    )


def database_url(path: Path) -> str:
    return f"sqlite:///{path}"


def query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        return list(connection.execute(sql, params).fetchall())


def snapshot(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of the tables that a fixture fills, table by table, sorted."""
    return {table: sorted(query(path, f"SELECT * FROM {table}"), key=repr) for table in TABLES}


def get_pac(server: ServerProcess, user: str, token: str) -> httpx.Response:
    return httpx.get(
        f"{server.api_url}/users/{user}/pac",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def serve(start_server: ServerFactory, database: Path) -> ServerProcess:
    """Start a server over the SQLite file `database`, whatever backend the other tests use."""
    # The last --database option wins, so this one replaces the one that `start_server` passes.
    return start_server("--database", database_url(database), data_dir=database.parent)


@dataclass(frozen=True)
class LoadRun:
    """A finished `zoompac load`, the database it wrote to and the table rows before it ran."""

    result: subprocess.CompletedProcess[str]
    database: Path
    before: dict[str, list[tuple[Any, ...]]]


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A SQLite file in this test's temporary folder."""
    return tmp_path / "zoompac.db"


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_load_summary(tmp_path: Path, database: Path, suffix: str) -> None:
    file = write_document(tmp_path / f"fixture{suffix}", base_document())
    result = run_load(file, "--database", database_url(database))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == BASE_SUMMARY.format(file=file)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_loaded_data_served(
    tmp_path: Path, database: Path, start_server: ServerFactory, suffix: str
) -> None:
    file = write_document(tmp_path / f"fixture{suffix}", base_document())
    run_load(file, "--database", database_url(database))
    server = serve(start_server, database)
    token = server.token(CLIENT_ID, CLIENT_SECRET, ACCOUNT_ID)
    response = get_pac(server, FIRST_EMAIL, token)
    assert response.status_code == 200, response.text
    assert response.json() == BASE_PAC_BODY


def test_loaded_user_pac_disabled(
    tmp_path: Path, database: Path, start_server: ServerFactory
) -> None:
    file = write_document(tmp_path / "fixture.yaml", base_document())
    run_load(file, "--database", database_url(database))
    server = serve(start_server, database)
    token = server.token(CLIENT_ID, CLIENT_SECRET, ACCOUNT_ID)
    response = get_pac(server, SECOND_EMAIL, token)
    assert response.json() == {"code": 2024, "message": "User does not have PAC enabled."}


def test_load_into_running_server(
    tmp_path: Path, database: Path, start_server: ServerFactory
) -> None:
    server = serve(start_server, database)
    file = write_document(tmp_path / "fixture.yaml", base_document())
    result = run_load(file, "--database", database_url(database))
    assert result.returncode == 0, result.stderr
    token = server.token(CLIENT_ID, CLIENT_SECRET, ACCOUNT_ID)
    assert get_pac(server, FIRST_EMAIL, token).json() == BASE_PAC_BODY


def test_load_env_database(tmp_path: Path) -> None:
    database = tmp_path / "from-env.db"
    file = write_document(tmp_path / "fixture.yaml", base_document())
    result = run_load(file, env={"ZOOMPAC_DATABASE": database_url(database)})
    assert result.returncode == 0, result.stderr
    assert query(database, "SELECT id FROM accounts") == [(ACCOUNT_ID,)]


def test_load_default_database(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    file = write_document(tmp_path / "fixture.yaml", base_document())
    result = run_load(file, env={"HOME": str(home)})
    assert result.returncode == 0, result.stderr
    database = home / ".local" / "share" / "zoompac" / "zoompac.db"
    assert query(database, "SELECT id FROM accounts") == [(ACCOUNT_ID,)]


def test_secret_stored_hashed(tmp_path: Path, database: Path) -> None:
    file = write_document(tmp_path / "fixture.yaml", base_document())
    run_load(file, "--database", database_url(database))
    [(stored,)] = query(
        database, "SELECT client_secret_hash FROM apps WHERE client_id = ?", CLIENT_ID
    )
    assert stored.startswith("scrypt$")
    assert CLIENT_SECRET not in stored


def test_secret_absent_from_files(tmp_path: Path, database: Path) -> None:
    file = write_document(tmp_path / "fixture.yaml", base_document())
    run_load(file, "--database", database_url(database))
    for path in tmp_path.glob("zoompac.db*"):
        assert CLIENT_SECRET.encode() not in path.read_bytes(), path


def test_secret_hash_loads(tmp_path: Path, database: Path, start_server: ServerFactory) -> None:
    document = base_document()
    app = document["accounts"][0]["apps"][0]
    app["client_secret_hash"] = hash_client_secret(app.pop("client_secret"))
    file = write_document(tmp_path / "fixture.yaml", document)
    result = run_load(file, "--database", database_url(database))
    assert result.returncode == 0, result.stderr
    server = serve(start_server, database)
    response = get_pac(server, FIRST_EMAIL, server.token(CLIENT_ID, CLIENT_SECRET, ACCOUNT_ID))
    assert response.json() == BASE_PAC_BODY


def replacement_document() -> dict[str, Any]:
    """The base account with a new secret, one user fewer and a new conference id."""
    document = base_document()
    account = document["accounts"][0]
    account["apps"][0]["client_secret"] = "replaced-secret-9Zk"
    account["users"] = account["users"][:1]
    account["users"][0]["pac_accounts"][0]["conference_id"] = 333333
    return document


@pytest.fixture(scope="module")
def replaced(tmp_path_factory: pytest.TempPathFactory) -> LoadRun:
    """Load the base document, then the replacement document with --replace."""
    folder = tmp_path_factory.mktemp("replace")
    database = folder / "zoompac.db"
    base = write_document(folder / "base.yaml", base_document())
    run_load(base, "--database", database_url(database))
    before = snapshot(database)
    file = write_document(folder / "replacement.yaml", replacement_document())
    return LoadRun(
        run_load(file, "--database", database_url(database), "--replace"), database, before
    )


def test_replace_exit_code(replaced: LoadRun) -> None:
    assert replaced.result.returncode == 0, replaced.result.stderr


def test_replace_summary(replaced: LoadRun) -> None:
    file = replaced.database.parent / "replacement.yaml"
    expected = f"Loaded 1 account(s), 1 app(s), 1 user(s) and 1 PAC account(s) from {file}."
    assert replaced.result.stdout.strip() == expected


def test_replace_drops_old_users(replaced: LoadRun) -> None:
    assert query(replaced.database, "SELECT email FROM users") == [(FIRST_EMAIL,)]


def test_replace_serves_new_data(replaced: LoadRun, start_server: ServerFactory) -> None:
    server = serve(start_server, replaced.database)
    token = server.token(CLIENT_ID, "replaced-secret-9Zk", ACCOUNT_ID)
    response = get_pac(server, FIRST_EMAIL, token)
    assert response.json()["pac_accounts"][0]["conference_id"] == "333333"


def test_replace_drops_old_secret(replaced: LoadRun, start_server: ServerFactory) -> None:
    server = serve(start_server, replaced.database)
    response = httpx.post(
        server.token_url,
        auth=(CLIENT_ID, CLIENT_SECRET),
        data={"grant_type": "account_credentials", "account_id": ACCOUNT_ID},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"


def test_existing_account_rejected(tmp_path: Path, database: Path) -> None:
    file = write_document(tmp_path / "fixture.yaml", base_document())
    run_load(file, "--database", database_url(database))
    before = snapshot(database)
    result = run_load(file, "--database", database_url(database))
    assert result.returncode == 1, result.stderr
    assert "accounts[0].id" in result.stderr
    assert "--replace" in result.stderr
    assert snapshot(database) == before


def invalid_email(document: dict[str, Any]) -> None:
    document["accounts"][0]["users"][1]["email"] = "second.loader.example.com"


def unknown_key(document: dict[str, Any]) -> None:
    document["accounts"][0]["users"][1]["pac_enable"] = True


def duplicate_email(document: dict[str, Any]) -> None:
    # E-mail addresses are unique regardless of case.
    document["accounts"][0]["users"][1]["email"] = FIRST_EMAIL.upper()


def duplicate_conference_id(document: dict[str, Any]) -> None:
    document["accounts"][0]["users"][1]["pac_accounts"] = [{"conference_id": 222222}]


def long_password(document: dict[str, Any]) -> None:
    document["accounts"][0]["users"][0]["pac_accounts"][0]["participant_password"] = "1234567"


def two_secrets(document: dict[str, Any]) -> None:
    app = document["accounts"][0]["apps"][0]
    app["client_secret_hash"] = hash_client_secret(app["client_secret"])


def duplicate_client_id(document: dict[str, Any]) -> None:
    apps = document["accounts"][0]["apps"]
    apps.append({**apps[0]})


def bad_plan(document: dict[str, Any]) -> None:
    document["accounts"][0]["plan"] = "platinum"


INVALID_DOCUMENTS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "invalid-email": (invalid_email, "accounts[0].users[1].email"),
    "unknown-key": (unknown_key, "accounts[0].users[1].pac_enable"),
    "duplicate-email": (duplicate_email, "accounts[0].users[1].email"),
    "duplicate-conference-id": (
        duplicate_conference_id,
        "accounts[0].users[1].pac_accounts[0].conference_id",
    ),
    "long-password": (
        long_password,
        "accounts[0].users[0].pac_accounts[0].participant_password",
    ),
    "two-secrets": (two_secrets, "accounts[0].apps[0]"),
    "duplicate-client-id": (duplicate_client_id, "accounts[0].apps[1].client_id"),
    "bad-plan": (bad_plan, "accounts[0].plan"),
}


@pytest.fixture(scope="module", params=sorted(INVALID_DOCUMENTS))
def invalid_load(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[LoadRun, str]:
    """Load an invalid document into an empty database, and return the run and the bad entry."""
    make_invalid, location = INVALID_DOCUMENTS[request.param]
    document = base_document()
    make_invalid(document)
    folder = tmp_path_factory.mktemp(f"invalid-{request.param}")
    file = write_document(folder / "invalid.yaml", document)
    database = folder / "zoompac.db"
    empty: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
    return LoadRun(run_load(file, "--database", database_url(database)), database, empty), location


def test_invalid_exit_code(invalid_load: tuple[LoadRun, str]) -> None:
    run, _ = invalid_load
    assert run.result.returncode == 1, run.result.stderr


def test_invalid_names_entry(invalid_load: tuple[LoadRun, str]) -> None:
    run, location = invalid_load
    assert f": {location}: " in run.result.stderr


def test_invalid_says_nothing_loaded(invalid_load: tuple[LoadRun, str]) -> None:
    run, _ = invalid_load
    assert "Nothing was loaded." in run.result.stderr


def test_invalid_no_traceback(invalid_load: tuple[LoadRun, str]) -> None:
    run, _ = invalid_load
    assert "Traceback" not in run.result.stderr


def test_invalid_loads_nothing(invalid_load: tuple[LoadRun, str]) -> None:
    run, _ = invalid_load
    assert snapshot(run.database) == run.before


def test_invalid_json_names_entry(tmp_path: Path, database: Path) -> None:
    document = base_document()
    invalid_email(document)
    file = write_document(tmp_path / "invalid.json", document)
    result = run_load(file, "--database", database_url(database))
    assert result.returncode == 1, result.stderr
    assert ": accounts[0].users[1].email: " in result.stderr
    assert snapshot(database) == {table: [] for table in TABLES}


def stored_email_clash() -> dict[str, Any]:
    """A new account whose second user has an e-mail that the base document already stored."""
    return {
        "accounts": [
            {
                "id": "other-account",
                "apps": [{"client_id": "other-client", "client_secret": "other-secret"}],
                "users": [
                    {"email": "fresh.user@example.com", "pac_accounts": [{}]},
                    {"email": FIRST_EMAIL.title()},
                ],
            }
        ]
    }


@pytest.fixture(scope="module")
def stored_clash_load(tmp_path_factory: pytest.TempPathFactory) -> LoadRun:
    """Load the base document, then one whose e-mail clashes with a stored user."""
    folder = tmp_path_factory.mktemp("stored-clash")
    database = folder / "zoompac.db"
    run_load(
        write_document(folder / "base.yaml", base_document()), "--database", database_url(database)
    )
    before = snapshot(database)
    file = write_document(folder / "clash.yaml", stored_email_clash())
    return LoadRun(run_load(file, "--database", database_url(database)), database, before)


def test_stored_email_exit_code(stored_clash_load: LoadRun) -> None:
    assert stored_clash_load.result.returncode == 1, stored_clash_load.result.stderr


def test_stored_email_names_entry(stored_clash_load: LoadRun) -> None:
    assert ": accounts[0].users[1].email: " in stored_clash_load.result.stderr


def test_stored_email_loads_nothing(stored_clash_load: LoadRun) -> None:
    assert snapshot(stored_clash_load.database) == stored_clash_load.before


def test_invalid_yaml(tmp_path: Path, database: Path) -> None:
    file = tmp_path / "broken.yaml"
    file.write_text("accounts: [\n  - id: x\n", encoding="utf-8")
    result = run_load(file, "--database", database_url(database))
    assert result.returncode == 1, result.stderr
    assert "not valid YAML" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_json(tmp_path: Path, database: Path) -> None:
    file = tmp_path / "broken.json"
    file.write_text('{"accounts": [', encoding="utf-8")
    result = run_load(file, "--database", database_url(database))
    assert result.returncode == 1, result.stderr
    assert "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file(tmp_path: Path, database: Path) -> None:
    result = run_load(tmp_path / "absent.yaml", "--database", database_url(database))
    assert result.returncode == 2, result.stderr
    assert "does not exist" in result.stderr


def test_invalid_database_url(tmp_path: Path) -> None:
    file = write_document(tmp_path / "fixture.yaml", base_document())
    result = run_load(file, "--database", "not a url")
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr


def test_database_not_sqlite(tmp_path: Path) -> None:
    file = write_document(tmp_path / "fixture.yaml", base_document())
    result = run_load(file, "--database", database_url(file))
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr
