"""`zoompac admin` and `zoompac export` as child processes over real SQLite files and servers."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import INVALID_TOKEN, SEED_BODY, bearer
from tests.server import DEMO_ACCOUNT, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ServerProcess
from zoompac.domain.secrets import verify_client_secret

ServerFactory = Callable[..., ServerProcess]

DEMO_FIXTURE = Path(__file__).parents[1] / "src" / "zoompac" / "fixtures" / "demo.yaml"
ACCOUNT = "acme-admin"
EMAIL = "Pat.Admin@Example.com"
TABLES = ("accounts", "apps", "users", "pac_accounts", "dial_in_numbers")


def database_url(folder: Path) -> str:
    """The URL of `folder/zoompac.db`, the file a server started on `folder` uses."""
    return f"sqlite:///{folder / 'zoompac.db'}"


def zoompac(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "zoompac", *args, "--database", database]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def zoompac_ok(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a command that must succeed, failing the test with its output otherwise."""
    result = zoompac(database, *args)
    if result.returncode != 0:
        raise AssertionError(f"zoompac {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def printed(output: str, key: str) -> str:
    """The value of a `key: value` line of a command's output."""
    match = re.search(rf"^{re.escape(key)}: (\S+)$", output, re.MULTILINE)
    if match is None:
        raise AssertionError(f"no {key!r} line in:\n{output}")
    return match.group(1)


def query(folder: Path, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(folder / "zoompac.db") as connection:
        return connection.execute(sql, parameters).fetchall()


def row_counts(folder: Path) -> dict[str, int]:
    return {table: query(folder, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}


def stored_state(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored row, without creation times and autoincrement keys, which loads renumber."""
    return {
        "accounts": query(
            folder,
            "SELECT id, name, plan, audio_conferencing, pac_enabled FROM accounts ORDER BY id",
        ),
        "apps": query(
            folder,
            "SELECT client_id, client_secret_hash, kind, account_id, scopes, redirect_uri, active "
            "FROM apps ORDER BY client_id",
        ),
        "users": query(
            folder,
            "SELECT id, account_id, email, email_key, first_name, last_name, type, status, "
            "pac_enabled FROM users ORDER BY id",
        ),
        "pac_accounts": query(
            folder,
            "SELECT user_id, account_id, conference_id, participant_password, "
            "listen_only_password FROM pac_accounts ORDER BY account_id, conference_id",
        ),
        # Numbers keep their order within each PAC account and kind.
        "dial_in_numbers": query(
            folder,
            "SELECT p.account_id, p.conference_id, n.kind, n.number, n.country "
            "FROM dial_in_numbers n JOIN pac_accounts p ON p.id = n.pac_account_id "
            "ORDER BY p.account_id, p.conference_id, n.kind, n.id",
        ),
    }


def create_account_app_user(folder: Path) -> tuple[str, str, str]:
    """Provision ACCOUNT with a Server-to-Server app and the user EMAIL.

    Returns the client id, the client secret and the user id.
    """
    database = database_url(folder)
    zoompac_ok(database, "admin", "account", "create", ACCOUNT, "--plan", "business")
    created = zoompac_ok(
        database,
        "admin",
        "app",
        "create",
        "--account",
        ACCOUNT,
        "--kind",
        "server_to_server",
        "--scope",
        "pac:read:admin",
    )
    zoompac_ok(database, "admin", "user", "create", EMAIL, "--account", ACCOUNT)
    listed = zoompac_ok(database, "admin", "user", "list", "--account", ACCOUNT, "--output", "json")
    user_id = json.loads(listed.stdout)[0]["id"]
    return printed(created.stdout, "client_id"), printed(created.stdout, "client_secret"), user_id


def create_account_user(folder: Path) -> None:
    """Provision ACCOUNT and the user EMAIL, for tests that need no app."""
    database = database_url(folder)
    zoompac_ok(database, "admin", "account", "create", ACCOUNT)
    zoompac_ok(database, "admin", "user", "create", EMAIL, "--account", ACCOUNT)


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, str]:
    """A database with ACCOUNT, its app and EMAIL, for tests that must leave it unchanged."""
    folder = tmp_path_factory.mktemp("provisioned")
    return folder, *create_account_app_user(folder)


def test_provisioned_pac_served(tmp_path: Path, start_server: ServerFactory) -> None:
    client_id, client_secret, user_id = create_account_app_user(tmp_path)
    zoompac_ok(
        database_url(tmp_path),
        "admin",
        "pac",
        "create",
        user_id,
        "--conference-id",
        "4455667788",
        "--participant-password",
        "1234",
        "--listen-only-password",
        "98",
        "--dedicated",
        "14155550100:US",
        "--global",
        "442071234567:GB",
        "--global",
        "61212345678:AU",
    )
    server = start_server(data_dir=tmp_path)
    token = server.token(client_id, client_secret, ACCOUNT)

    response = httpx.get(f"{server.api_url}/users/pat.admin@example.com/pac", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == {
        "pac_accounts": [
            {
                "dedicated_dial_in_number": [{"number": "14155550100", "country": "US"}],
                "global_dial_in_numbers": [
                    {"number": "442071234567", "country": "GB"},
                    {"number": "61212345678", "country": "AU"},
                ],
                "conference_id": "4455667788",
                "participant_password": "1234",
                "listen_only_password": "98",
            }
        ]
    }


def test_user_named_by_email_any_case(provisioned: tuple[Path, str, str, str]) -> None:
    folder, _, _, user_id = provisioned

    listed = zoompac_ok(
        database_url(folder), "admin", "pac", "list", "PAT.ADMIN@EXAMPLE.COM", "--output", "json"
    )

    assert json.loads(listed.stdout) == []
    assert query(folder, "SELECT id FROM users WHERE email = ?", EMAIL) == [(user_id,)]


def test_app_secret_works(provisioned: tuple[Path, str, str, str]) -> None:
    folder, client_id, client_secret, _ = provisioned
    server = ServerProcess(folder).start()
    try:
        response = httpx.post(
            server.token_url,
            auth=(client_id, client_secret),
            data={"grant_type": "account_credentials", "account_id": ACCOUNT},
        )
    finally:
        server.stop()

    assert response.status_code == 200
    assert response.json()["access_token"]


def test_app_create_output(tmp_path: Path) -> None:
    database = database_url(tmp_path)
    zoompac_ok(database, "admin", "account", "create", ACCOUNT)

    created = zoompac_ok(database, "admin", "app", "create", "--account", ACCOUNT)

    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", printed(created.stdout, "client_id"))
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", printed(created.stdout, "client_secret"))
    assert created.stdout.count(printed(created.stdout, "client_secret")) == 1
    assert "stores only its hash" in created.stdout


def test_secret_stored_hashed(provisioned: tuple[Path, str, str, str]) -> None:
    folder, client_id, client_secret, _ = provisioned

    [(stored,)] = query(
        folder, "SELECT client_secret_hash FROM apps WHERE client_id = ?", client_id
    )

    assert stored != client_secret
    assert verify_client_secret(client_secret, stored)


def test_secret_absent_from_files(provisioned: tuple[Path, str, str, str]) -> None:
    folder, _, client_secret, _ = provisioned
    files = [path for path in folder.iterdir() if path.name.startswith("zoompac.db")]

    leaks = [path.name for path in files if client_secret.encode() in path.read_bytes()]

    assert files
    assert leaks == []


def test_secret_absent_from_listing(provisioned: tuple[Path, str, str, str]) -> None:
    folder, _, client_secret, _ = provisioned

    listed = zoompac_ok(database_url(folder), "admin", "app", "list", "--output", "json")

    assert client_secret not in listed.stdout


def test_secret_absent_from_export(provisioned: tuple[Path, str, str, str]) -> None:
    folder, client_id, client_secret, _ = provisioned

    exported = zoompac_ok(database_url(folder), "export", "-")

    assert client_id in exported.stdout
    assert client_secret not in exported.stdout


def test_generated_conference_ids_unique(tmp_path: Path) -> None:
    database = database_url(tmp_path)
    zoompac_ok(database, "admin", "account", "create", ACCOUNT)
    zoompac_ok(database, "admin", "user", "create", "first@example.com", "--account", ACCOUNT)
    zoompac_ok(database, "admin", "user", "create", "second@example.com", "--account", ACCOUNT)
    owners = ["first@example.com", "second@example.com"] * 25

    # Four writers at once, as scripts that provision in parallel would run them.
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda owner: zoompac(database, "admin", "pac", "create", owner), owners)
        )

    failures = [result.stderr for result in results if result.returncode != 0]
    printed_ids = {int(printed(result.stdout, "conference_id")) for result in results}
    rows = query(
        tmp_path,
        "SELECT conference_id, participant_password, listen_only_password FROM pac_accounts "
        "WHERE account_id = ?",
        ACCOUNT,
    )
    stored_ids = [row[0] for row in rows]
    passwords = [password for row in rows for password in row[1:]]
    assert failures == []
    assert len(rows) == 50
    assert len(set(stored_ids)) == 50
    assert set(stored_ids) == printed_ids
    assert all(10**9 <= conference_id < 10**10 for conference_id in stored_ids)
    assert [password for password in passwords if len(password) > 6] == []
    assert all(password.isdigit() for password in passwords)


def test_conference_id_taken_in_account(tmp_path: Path) -> None:
    database = database_url(tmp_path)
    zoompac_ok(database, "admin", "account", "create", ACCOUNT)
    zoompac_ok(database, "admin", "user", "create", "first@example.com", "--account", ACCOUNT)
    zoompac_ok(database, "admin", "user", "create", "second@example.com", "--account", ACCOUNT)
    zoompac_ok(database, "admin", "pac", "create", "first@example.com", "--conference-id", "777")

    result = zoompac(
        database, "admin", "pac", "create", "second@example.com", "--conference-id", "777"
    )

    assert result.returncode == 1
    assert "Conference id 777 is already used in account 'acme-admin'" in result.stderr
    assert query(tmp_path, "SELECT count(*) FROM pac_accounts") == [(1,)]


def test_conference_id_free_in_other_account(tmp_path: Path) -> None:
    database = database_url(tmp_path)
    for account, email in ((ACCOUNT, "first@example.com"), ("other-account", "other@example.com")):
        zoompac_ok(database, "admin", "account", "create", account)
        zoompac_ok(database, "admin", "user", "create", email, "--account", account)
    zoompac_ok(database, "admin", "pac", "create", "first@example.com", "--conference-id", "777")

    result = zoompac(
        database, "admin", "pac", "create", "other@example.com", "--conference-id", "777"
    )

    assert result.returncode == 0
    assert query(tmp_path, "SELECT count(*) FROM pac_accounts WHERE conference_id = 777") == [(2,)]


MISUSE = [
    pytest.param(["admin", "account", "create", "acme-gold", "--plan", "gold"], "gold", id="plan"),
    pytest.param(
        ["admin", "pac", "create", EMAIL, "--dedicated", "14155550100-US"],
        "14155550100-US",
        id="number-syntax",
    ),
    pytest.param(
        ["admin", "pac", "create", EMAIL, "--global", "1415x:US"], "1415x", id="number-digits"
    ),
    pytest.param(
        ["admin", "pac", "create", EMAIL, "--participant-password", "1234567"],
        "1234567",
        id="password-length",
    ),
    pytest.param(
        ["admin", "user", "create", "not-an-email", "--account", ACCOUNT],
        "not-an-email",
        id="email",
    ),
    pytest.param(
        ["admin", "app", "create", "--account", ACCOUNT, "--kind", "user"], "user", id="no-redirect"
    ),
    pytest.param(["admin", "user", "update", EMAIL], "--email", id="nothing-to-change"),
]


@pytest.mark.parametrize(("args", "value"), MISUSE)
def test_misuse_exit_code(
    provisioned: tuple[Path, str, str, str], args: list[str], value: str
) -> None:
    folder = provisioned[0]
    before = row_counts(folder)

    result = zoompac(database_url(folder), *args)

    assert result.returncode == 2
    assert value in result.stderr
    assert "Traceback" not in result.stderr
    assert row_counts(folder) == before


FAILURES = [
    pytest.param(
        ["admin", "pac", "create", "nobody@example.com"],
        "User 'nobody@example.com' not found",
        id="unknown-user",
    ),
    pytest.param(
        ["admin", "user", "create", "PAT.ADMIN@example.COM", "--account", ACCOUNT],
        "E-mail address 'PAT.ADMIN@example.COM' is already used",
        id="email-other-case",
    ),
    pytest.param(
        ["admin", "user", "create", "new@example.com", "--account", "no-such-account"],
        "Account 'no-such-account' not found",
        id="unknown-account",
    ),
    pytest.param(
        ["admin", "app", "update", "no-such-client", "--inactive"],
        "App 'no-such-client' not found",
        id="unknown-app",
    ),
    pytest.param(
        ["admin", "pac", "delete", EMAIL, "123"],
        "PAC account with conference id '123' not found",
        id="unknown-pac-account",
    ),
    pytest.param(
        ["admin", "account", "create", ACCOUNT],
        f"Account '{ACCOUNT}' already exists",
        id="account-exists",
    ),
]


@pytest.mark.parametrize(("args", "message"), FAILURES)
def test_failure_exit_code(
    provisioned: tuple[Path, str, str, str], args: list[str], message: str
) -> None:
    folder = provisioned[0]
    before = row_counts(folder)

    result = zoompac(database_url(folder), *args)

    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert row_counts(folder) == before


def test_deactivated_app_token_rejected(tmp_path: Path, start_server: ServerFactory) -> None:
    client_id, client_secret, _ = create_account_app_user(tmp_path)
    server = start_server(data_dir=tmp_path)
    token = server.token(client_id, client_secret, ACCOUNT)
    url = f"{server.api_url}/users/{EMAIL}/pac"
    before = httpx.get(url, headers=bearer(token))

    zoompac_ok(database_url(tmp_path), "admin", "app", "update", client_id, "--inactive")
    after = httpx.get(url, headers=bearer(token))
    new_token = httpx.post(
        server.token_url,
        auth=(client_id, client_secret),
        data={"grant_type": "account_credentials", "account_id": ACCOUNT},
    )

    assert before.status_code == 200
    assert after.status_code == 401
    assert after.json() == INVALID_TOKEN
    assert new_token.status_code == 400
    assert new_token.json()["error"] == "invalid_client"


def test_rotated_secret_replaces_old(tmp_path: Path, start_server: ServerFactory) -> None:
    client_id, old_secret, _ = create_account_app_user(tmp_path)
    rotated = zoompac_ok(database_url(tmp_path), "admin", "app", "rotate-secret", client_id)
    new_secret = printed(rotated.stdout, "client_secret")
    server = start_server(data_dir=tmp_path)

    def token_status(secret: str) -> int:
        response = httpx.post(
            server.token_url,
            auth=(client_id, secret),
            data={"grant_type": "account_credentials", "account_id": ACCOUNT},
        )
        return response.status_code

    assert new_secret != old_secret
    assert token_status(new_secret) == 200
    assert token_status(old_secret) == 400


def test_user_delete_removes_pac_accounts(tmp_path: Path) -> None:
    create_account_user(tmp_path)
    database = database_url(tmp_path)
    for _ in range(2):
        zoompac_ok(database, "admin", "pac", "create", EMAIL, "--global", "14155550100:US")

    deleted = zoompac_ok(database, "admin", "user", "delete", EMAIL.upper())

    assert "2 PAC account(s)" in deleted.stdout
    assert query(tmp_path, "SELECT count(*) FROM users") == [(0,)]
    assert query(tmp_path, "SELECT count(*) FROM pac_accounts") == [(0,)]
    assert query(tmp_path, "SELECT count(*) FROM dial_in_numbers") == [(0,)]


def test_set_numbers_replaces_all(tmp_path: Path) -> None:
    create_account_user(tmp_path)
    database = database_url(tmp_path)
    zoompac_ok(
        database, "admin", "pac", "create", EMAIL, "--conference-id", "55", "--dedicated", "1:US"
    )

    zoompac_ok(
        database, "admin", "pac", "set-numbers", EMAIL, "55", "--global", "3:GB", "--global", "2:FR"
    )

    numbers = query(tmp_path, "SELECT kind, number, country FROM dial_in_numbers ORDER BY id")
    assert numbers == [("global", "3", "GB"), ("global", "2", "FR")]


def test_pac_delete_by_conference_id(tmp_path: Path) -> None:
    create_account_user(tmp_path)
    database = database_url(tmp_path)
    for conference_id in ("55", "66"):
        zoompac_ok(database, "admin", "pac", "create", EMAIL, "--conference-id", conference_id)

    zoompac_ok(database, "admin", "pac", "delete", EMAIL, "55")

    assert query(tmp_path, "SELECT conference_id FROM pac_accounts") == [(66,)]


def test_account_settings_served(tmp_path: Path, start_server: ServerFactory) -> None:
    client_id, client_secret, _ = create_account_app_user(tmp_path)
    zoompac_ok(database_url(tmp_path), "admin", "account", "update", ACCOUNT, "--no-pac")
    server = start_server(data_dir=tmp_path)
    token = server.token(client_id, client_secret, ACCOUNT)

    response = httpx.get(f"{server.api_url}/users/{EMAIL}/pac", headers=bearer(token))

    assert response.status_code == 400
    assert response.json() == {"code": 200, "message": "Account does not enable PAC."}


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_export_round_trip(tmp_path: Path, start_server: ServerFactory, suffix: str) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    zoompac_ok(database_url(first), "load", str(DEMO_FIXTURE))
    first_export, second_export = tmp_path / f"first{suffix}", tmp_path / f"second{suffix}"

    zoompac_ok(database_url(first), "export", str(first_export))
    zoompac_ok(database_url(second), "load", str(first_export))
    zoompac_ok(database_url(second), "export", str(second_export))
    server = start_server(data_dir=second)
    token = server.token(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_ACCOUNT)
    response = httpx.get(f"{server.api_url}/users/pac.user@example.com/pac", headers=bearer(token))

    document = yaml.safe_load(first_export.read_text())
    demo_apps = document["accounts"][0]["apps"]
    assert second_export.read_text() == first_export.read_text()
    assert stored_state(second) == stored_state(first)
    assert all("client_secret" not in app for app in demo_apps)
    assert all(app["client_secret_hash"].startswith("scrypt$") for app in demo_apps)
    assert response.json() == SEED_BODY


def test_export_keeps_provisioned_state(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    database = database_url(first)
    create_account_app_user(first)
    zoompac_ok(database, "admin", "account", "create", "other-account", "--plan", "free")
    zoompac_ok(
        database,
        "admin",
        "app",
        "create",
        "--account",
        "other-account",
        "--kind",
        "user",
        "--redirect-uri",
        "https://example.com/callback",
        "--scope",
        "pac:read",
        "--inactive",
    )
    zoompac_ok(
        database,
        "admin",
        "user",
        "create",
        "quiet@example.com",
        "--account",
        "other-account",
        "--status",
        "pending",
        "--type",
        "1",
        "--no-pac",
    )
    zoompac_ok(
        database,
        "admin",
        "pac",
        "create",
        EMAIL,
        "--participant-password",
        "012345",
        "--global",
        "9:ZZ",
        "--dedicated",
        "3:US",
        "--global",
        "1:AA",
    )
    zoompac_ok(database, "admin", "pac", "create", "quiet@example.com", "--conference-id", "42")
    exported = tmp_path / "state.yaml"

    zoompac_ok(database, "export", str(exported))
    zoompac_ok(database_url(second), "load", str(exported))

    assert stored_state(second) == stored_state(first)
    assert row_counts(second) == {
        "accounts": 2,
        "apps": 2,
        "users": 2,
        "pac_accounts": 2,
        "dial_in_numbers": 3,
    }


def test_export_file_private(provisioned: tuple[Path, str, str, str], tmp_path: Path) -> None:
    exported = tmp_path / "state.json"

    zoompac_ok(database_url(provisioned[0]), "export", str(exported))

    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    assert json.loads(exported.read_text())["accounts"][0]["id"] == ACCOUNT


def test_export_unknown_suffix(provisioned: tuple[Path, str, str, str], tmp_path: Path) -> None:
    target = tmp_path / "state.txt"

    result = zoompac(database_url(provisioned[0]), "export", str(target))

    assert result.returncode == 2
    assert "'.txt'" in result.stderr
    assert not target.exists()


def test_export_format_option(provisioned: tuple[Path, str, str, str], tmp_path: Path) -> None:
    target = tmp_path / "state.txt"

    zoompac_ok(database_url(provisioned[0]), "export", str(target), "--format", "json")

    assert json.loads(target.read_text())["version"] == 1
