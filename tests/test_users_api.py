"""The Users API: `GET /v2/users` with its paging, `GET /v2/users/{userId}` and its settings.

Small cases use `tests/fixtures/users_api.yaml`. The paging walks use accounts of generated users,
written in random order into a fixture file and loaded as a user would, with some users deleted
before the server starts.
"""

from __future__ import annotations

import random
import re
import string
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import yaml
from sqlalchemy import delete

from tests.helpers import (
    FIXTURES_DIR,
    USER_NOT_IN_ACCOUNT,
    assert_zoom_error,
    bearer,
    load_fixture_file,
    user_not_found,
)
from tests.server import ServerProcess
from zoompac.storage.database import open_engine
from zoompac.storage.tables import users

FIXTURE = FIXTURES_DIR / "users_api.yaml"
SECRET = "users-secret"
ACCOUNT = "users-account"
OTHER_ACCOUNT = "users-other-account"
REDIRECT_URI = "http://127.0.0.1/unvisited"
ADA_ID = "usersAda00000000000001"
BEN_ID = "usersBen00000000000001"
OTHER_USER_ID = "usersOther000000000001"
ADMIN_APPS = {ACCOUNT: "users-admin", OTHER_ACCOUNT: "users-other-admin"}

BODY_KEYS = [
    "next_page_token",
    "page_count",
    "page_number",
    "page_size",
    "total_records",
    "users",
]
USER_KEYS = [
    "id",
    "first_name",
    "last_name",
    "display_name",
    "email",
    "type",
    "status",
    "created_at",
    "user_created_at",
]
ADA = {
    "id": ADA_ID,
    "first_name": "Ada",
    "last_name": "Lovelace",
    "display_name": "Ada Lovelace",
    "email": "Ada.Active@example.com",
    "type": 2,
    "status": "active",
}
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
BAD_PAGE_SIZE = {
    "code": 300,
    "message": "Invalid field: page_size. Expected a whole number from 1 to 300.",
}
BAD_STATUS = {
    "code": 300,
    "message": "Invalid field: status. Expected active, inactive or pending.",
}
BAD_PAGE_TOKEN = {"code": 300, "message": "The next page token is invalid or expired."}

# The generated accounts.
WALK_ACCOUNT = "walk-account"
WALK_STATUSES = ["active"] * 940 + ["inactive"] * 30 + ["pending"] * 30
WALK_DELETED_BY_SQL = {"active": 40, "pending": 5}
CHURN_ACCOUNT = "churn-account"
CHURN_USERS = 150
CHURN_PAGE_SIZE = 20


@dataclass(frozen=True)
class Generated:
    id: str
    email: str
    status: str


@dataclass
class Population:
    """Who is stored in the generated accounts once the deletions are done."""

    directory: Path
    walk: list[Generated]
    churn: list[Generated]

    def emails(self, status: str) -> list[str]:
        return sorted(user.email for user in self.walk if user.status == status)


def random_ids(rng: random.Random, count: int) -> list[str]:
    alphabet = string.ascii_letters + string.digits + "-_"
    ids: set[str] = set()
    while len(ids) < count:
        ids.add("".join(rng.choice(alphabet) for _ in range(22)))
    return sorted(ids)


def generated_account(account_id: str, users: list[Generated]) -> dict[str, Any]:
    return {
        "id": account_id,
        "plan": "pro",
        "apps": [
            {
                "client_id": f"{account_id}-admin",
                "client_secret": SECRET,
                "scopes": ["user:read:admin"],
            }
        ],
        "users": [
            {
                "id": user.id,
                "email": user.email,
                "first_name": user.email.split("@")[0],
                "status": user.status,
            }
            for user in users
        ],
    }


def delete_with_sql(database_url: str, user_ids: list[str]) -> None:
    """Delete users with plain SQL behind the server's back, on SQLite or PostgreSQL."""
    engine = open_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(delete(users).where(users.c.id.in_(user_ids)))
    finally:
        engine.dispose()


def delete_with_admin_cli(database_url: str, user_ref: str) -> None:
    command = [sys.executable, "-m", "zoompac", "admin", "user", "delete", user_ref]
    command += ["--database", database_url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Population:
    """Load both fixture files, then delete some generated users before any server starts."""
    directory = tmp_path_factory.mktemp("users-api")
    database_url = ServerProcess(directory).database_url
    rng = random.Random(20260207)

    walk_ids = random_ids(rng, len(WALK_STATUSES))
    walk = [
        Generated(user_id, f"walker{n:04d}@walk.example.com", status)
        for n, (user_id, status) in enumerate(zip(walk_ids, WALK_STATUSES, strict=True))
    ]
    churn = [
        Generated(user_id, f"churner{n:04d}@churn.example.com", "active")
        for n, user_id in enumerate(random_ids(rng, CHURN_USERS))
    ]
    # Insert in random order, so that the stored order differs from the id order.
    shuffled_walk, shuffled_churn = rng.sample(walk, len(walk)), rng.sample(churn, len(churn))
    document = {
        "version": 1,
        "accounts": [
            generated_account(WALK_ACCOUNT, shuffled_walk),
            generated_account(CHURN_ACCOUNT, shuffled_churn),
        ],
    }
    generated = directory / "generated.yaml"
    generated.write_text(yaml.safe_dump(document), encoding="utf-8")
    load_fixture_file(database_url, FIXTURE)
    load_fixture_file(database_url, generated)

    doomed = [rng.choice([u for u in walk if u.status == "active"])]
    delete_with_admin_cli(database_url, doomed[0].email)
    for status, count in WALK_DELETED_BY_SQL.items():
        candidates = [u for u in walk if u.status == status and u not in doomed]
        doomed += rng.sample(candidates, count)
    delete_with_sql(database_url, [user.id for user in doomed[1:]])
    return Population(directory, [user for user in walk if user not in doomed], churn)


@pytest.fixture(scope="module")
def users_server(population: Population) -> Iterator[ServerProcess]:
    server = ServerProcess(population.directory, args=["--no-rate-limits"]).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@dataclass
class Api:
    """One token on the users server."""

    http: httpx.Client
    server: ServerProcess
    token: str

    def get(self, path: str, **params: str) -> httpx.Response:
        return self.http.get(
            f"{self.server.api_url}{path}", params=params, headers=bearer(self.token)
        )


def admin_api(http: httpx.Client, server: ServerProcess, account: str) -> Api:
    """A token of the account's admin app; generated accounts name it `<account>-admin`."""
    client_id = ADMIN_APPS.get(account, f"{account}-admin")
    return Api(http, server, server.token(client_id, SECRET, account))


@pytest.fixture(scope="module")
def admin(http: httpx.Client, users_server: ServerProcess) -> Api:
    return admin_api(http, users_server, ACCOUNT)


@pytest.fixture(scope="module")
def walker(http: httpx.Client, users_server: ServerProcess) -> Api:
    return admin_api(http, users_server, WALK_ACCOUNT)


@pytest.fixture(scope="module")
def ada(http: httpx.Client, users_server: ServerProcess) -> Api:
    """Ada's own user-level token, from the authorization-code grant."""
    consent = http.post(
        f"{users_server.base_url}/oauth/authorize",
        data={
            "client_id": "users-me",
            "redirect_uri": REDIRECT_URI,
            "user_id": ADA_ID,
            "decision": "allow",
        },
    )
    code = dict(parse_qsl(urlsplit(consent.headers["location"]).query))["code"]
    response = http.post(
        users_server.token_url,
        auth=("users-me", SECRET),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
    )
    return Api(http, users_server, response.json()["access_token"])


# GET /v2/users


def test_list_body_keys(admin: Api):
    response = admin.get("/users")
    assert response.status_code == 200
    assert list(response.json()) == BODY_KEYS


def test_list_default_status(admin: Api):
    users = admin.get("/users").json()["users"]
    assert [user["email"] for user in users] == [
        "Ada.Active@example.com",
        "ben.basic@example.com",
        "gus.active@example.com",
    ]


def test_list_small_account(admin: Api):
    body = admin.get("/users").json()
    del body["users"]
    assert body == {
        "next_page_token": "",
        "page_count": 1,
        "page_number": 1,
        "page_size": 30,
        "total_records": 3,
    }


def test_user_keys(admin: Api):
    users = admin.get("/users").json()["users"]
    assert [list(user) for user in users] == [USER_KEYS] * 3


def test_user_object(admin: Api):
    user = admin.get("/users").json()["users"][0]
    assert {key: user[key] for key in ADA} == ADA
    assert TIMESTAMP.fullmatch(user["created_at"])
    assert user["user_created_at"] == user["created_at"]


def test_display_name_without_last_name(admin: Api):
    users = admin.get("/users").json()["users"]
    assert users[1]["display_name"] == "Ben"


@pytest.mark.parametrize(
    ("status", "emails"),
    [
        ("active", ["Ada.Active@example.com", "ben.basic@example.com", "gus.active@example.com"]),
        ("inactive", ["cyd.inactive@example.com", "dee.inactive@example.com"]),
    ],
)
def test_list_status(admin: Api, status: str, emails: list[str]):
    users = admin.get("/users", status=status).json()["users"]
    assert [user["email"] for user in users] == emails
    assert {user["status"] for user in users} == {status}


def test_list_pending(admin: Api):
    users = admin.get("/users", status="pending").json()["users"]
    assert sorted(user["email"] for user in users) == [
        "eve.pending@example.com",
        "fay.pending@example.com",
    ]


def test_pending_users_have_no_id(admin: Api):
    users = admin.get("/users", status="pending").json()["users"]
    assert [list(user) for user in users] == [USER_KEYS[1:]] * 2


@pytest.mark.parametrize("status", ["Active", "all", "deleted", "active,inactive"])
def test_bad_status(admin: Api, status: str):
    assert_zoom_error(admin.get("/users", status=status), 400, BAD_STATUS)


# Only ASCII digits make a page size. SUPERSCRIPT TWO passes str.isdigit but not int();
# ARABIC-INDIC DIGIT THREE and FULLWIDTH DIGIT THREE pass both.
NOT_ASCII_DIGITS = ["\u00b2", "\u0663", "\uff13"]


@pytest.mark.parametrize(
    "page_size", ["301", "0", "abc", "-1", "1.5", "1e2", "99999999999", *NOT_ASCII_DIGITS]
)
def test_bad_page_size(admin: Api, page_size: str):
    assert_zoom_error(admin.get("/users", page_size=page_size), 400, BAD_PAGE_SIZE)


def test_page_size_300(walker: Api):
    body = walker.get("/users", page_size="300").json()
    assert body["page_size"] == 300
    assert len(body["users"]) == 300


def test_default_page(walker: Api, population: Population):
    body = walker.get("/users").json()
    total = len(population.emails("active"))
    assert body["page_size"] == 30
    assert len(body["users"]) == 30
    assert body["total_records"] == total
    assert body["page_count"] == -(-total // 30)
    assert body["next_page_token"] != ""


def test_list_other_account_only(walker: Api):
    emails = [user["email"] for user in walker.get("/users", page_size="300").json()["users"]]
    assert [email for email in emails if not email.endswith("@walk.example.com")] == []


# GET /v2/users/{userId}


def test_get_user(admin: Api):
    response = admin.get(f"/users/{ADA_ID}")
    assert response.status_code == 200
    assert list(response.json()) == [*USER_KEYS, "account_id"]
    assert {key: response.json()[key] for key in ADA} == ADA
    assert response.json()["account_id"] == ACCOUNT


def test_get_user_by_email(admin: Api):
    response = admin.get("/users/ADA.ACTIVE@EXAMPLE.COM")
    assert response.json()["id"] == ADA_ID


def test_get_inactive_user(admin: Api):
    response = admin.get("/users/cyd.inactive@example.com")
    assert response.json()["status"] == "inactive"


def test_get_me(ada: Api):
    response = ada.get("/users/me")
    assert response.status_code == 200
    assert response.json()["id"] == ADA_ID


def test_get_me_s2s(admin: Api):
    assert_zoom_error(admin.get("/users/me"), 404, user_not_found("me"))


@pytest.mark.parametrize("user_ref", ["nobody@example.com", "usersNobody00000000001"])
def test_get_unknown_user(admin: Api, user_ref: str):
    assert_zoom_error(admin.get(f"/users/{user_ref}"), 404, user_not_found(user_ref))


@pytest.mark.parametrize("user_ref", [OTHER_USER_ID, "other.account@example.com"])
def test_get_other_account_user(admin: Api, user_ref: str):
    assert_zoom_error(admin.get(f"/users/{user_ref}"), 400, USER_NOT_IN_ACCOUNT)


# GET /v2/users/{userId}/settings


@pytest.mark.parametrize(
    ("user_ref", "enabled"), [(ADA_ID, True), ("ben.basic@example.com", False)]
)
def test_settings(admin: Api, user_ref: str, enabled: bool):
    response = admin.get(f"/users/{user_ref}/settings")
    assert response.status_code == 200
    assert response.json() == {"audio_conferencing": {"personal_audio_conference": enabled}}


def test_settings_me(ada: Api):
    response = ada.get("/users/me/settings")
    assert response.json() == {"audio_conferencing": {"personal_audio_conference": True}}


def test_settings_unknown_user(admin: Api):
    response = admin.get("/users/nobody@example.com/settings")
    assert_zoom_error(response, 404, user_not_found("nobody@example.com"))


def test_settings_other_account_user(admin: Api):
    response = admin.get(f"/users/{OTHER_USER_ID}/settings")
    assert_zoom_error(response, 400, USER_NOT_IN_ACCOUNT)


def test_settings_me_s2s(admin: Api):
    assert_zoom_error(admin.get("/users/me/settings"), 404, user_not_found("me"))


# Walking every page.


def walk(api: Api, status: str, page_size: int) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    params = {"status": status, "page_size": str(page_size)}
    # More pages than any walk here needs, so a token that never ends cannot loop forever.
    for _ in range(1000):
        response = api.get("/users", **params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        if not pages[-1]["next_page_token"]:
            break
        params["next_page_token"] = pages[-1]["next_page_token"]
    return pages


WALKS = [("active", 7), ("active", 300), ("pending", 7), ("inactive", 300)]


@pytest.fixture(scope="module")
def walks(walker: Api) -> dict[tuple[str, int], list[dict[str, Any]]]:
    return {(status, size): walk(walker, status, size) for status, size in WALKS}


def walk_id(value: object) -> str:
    return str(value)


@pytest.mark.parametrize(("status", "size"), WALKS, ids=walk_id)
def test_walk_each_user_once(walks, population: Population, status: str, size: int):
    emails = [user["email"] for page in walks[status, size] for user in page["users"]]
    assert sorted(emails) == population.emails(status)


@pytest.mark.parametrize(("status", "size"), WALKS, ids=walk_id)
def test_walk_page_sizes(walks, status: str, size: int):
    pages = walks[status, size]
    assert [len(page["users"]) for page in pages[:-1]] == [size] * (len(pages) - 1)
    assert 1 <= len(pages[-1]["users"]) <= size


@pytest.mark.parametrize(("status", "size"), WALKS, ids=walk_id)
def test_walk_totals(walks, population: Population, status: str, size: int):
    total = len(population.emails(status))
    assert {page["total_records"] for page in walks[status, size]} == {total}
    assert {page["page_count"] for page in walks[status, size]} == {-(-total // size)}


@pytest.mark.parametrize(("status", "size"), WALKS, ids=walk_id)
def test_walk_page_numbers(walks, status: str, size: int):
    pages = walks[status, size]
    assert [page["page_number"] for page in pages] == list(range(1, len(pages) + 1))
    assert {page["page_size"] for page in pages} == {size}


@pytest.mark.parametrize(("status", "size"), WALKS, ids=walk_id)
def test_walk_tokens(walks, status: str, size: int):
    tokens = [page["next_page_token"] for page in walks[status, size]]
    assert tokens[-1] == ""
    assert "" not in tokens[:-1]


def test_walk_order(walks):
    ids = [user["id"] for page in walks["active", 7] for user in page["users"]]
    assert ids == sorted(ids)


def test_walk_survives_deletions(http: httpx.Client, users_server: ServerProcess, population):
    """Users deleted during a walk drop out; everyone else still appears exactly once."""
    api = admin_api(http, users_server, CHURN_ACCOUNT)
    params = {"page_size": str(CHURN_PAGE_SIZE)}
    first = api.get("/users", **params).json()
    second = api.get("/users", **params, next_page_token=first["next_page_token"]).json()
    seen = [user["email"] for user in first["users"] + second["users"]]
    reached = {user["id"] for user in first["users"] + second["users"]}
    rng = random.Random(7)
    gone_before = rng.sample([u for u in population.churn if u.id in reached], 5)
    gone_ahead = rng.sample([u for u in population.churn if u.id not in reached], 5)
    delete_with_sql(users_server.database_url, [user.id for user in gone_before + gone_ahead])

    params["next_page_token"] = second["next_page_token"]
    for _ in range(100):
        page = api.get("/users", **params).json()
        seen += [user["email"] for user in page["users"]]
        if not page["next_page_token"]:
            break
        params["next_page_token"] = page["next_page_token"]
    expected = sorted(user.email for user in population.churn if user not in gone_ahead)
    assert sorted(seen) == expected


# Page tokens belong to one query and expire.


@pytest.fixture(scope="module")
def page_token(walker: Api) -> str:
    token: str = walker.get("/users", page_size="7").json()["next_page_token"]
    return token


def test_token_next_page(walker: Api, page_token: str):
    body = walker.get("/users", page_size="7", status="active", next_page_token=page_token).json()
    assert body["page_number"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": "8"},
        {},
        {"page_size": "7", "status": "inactive"},
        {"page_size": "7", "status": "pending"},
    ],
    ids=["page-size", "default-page-size", "inactive", "pending"],
)
def test_token_other_query(walker: Api, page_token: str, params: dict[str, str]):
    response = walker.get("/users", **params, next_page_token=page_token)
    assert_zoom_error(response, 400, BAD_PAGE_TOKEN)


def test_token_other_account(http: httpx.Client, users_server: ServerProcess, page_token: str):
    api = admin_api(http, users_server, ACCOUNT)
    response = api.get("/users", page_size="7", next_page_token=page_token)
    assert_zoom_error(response, 400, BAD_PAGE_TOKEN)


def tampered(token: str) -> list[str]:
    payload, signature = token.split(".")
    flip = {"A": "B"}
    changed_payload = payload[:-2] + flip.get(payload[-2], "A") + payload[-1]
    changed_signature = flip.get(signature[0], "A") + signature[1:]
    return [
        f"{changed_payload}.{signature}",
        f"{payload}.{changed_signature}",
        f"{payload}.",
        payload,
        f"{token}.{signature}",
        token[:-1],
    ]


@pytest.mark.parametrize("index", range(6))
def test_token_tampered(walker: Api, page_token: str, index: int):
    response = walker.get("/users", page_size="7", next_page_token=tampered(page_token)[index])
    assert_zoom_error(response, 400, BAD_PAGE_TOKEN)


@pytest.mark.parametrize("garbage", ["abc", "a.b", "....", "é.é", "%00", "x" * 5000])
def test_token_garbage(walker: Api, garbage: str):
    response = walker.get("/users", page_size="7", next_page_token=garbage)
    assert_zoom_error(response, 400, BAD_PAGE_TOKEN)


@pytest.fixture(scope="module")
def aged_page_token(population: Population, http: httpx.Client) -> dict[int, httpx.Response]:
    """Mint a page token, stop the server, and use it on servers whose clock runs ahead.

    Returns the response for each clock offset, in minutes.
    """
    first = ServerProcess(population.directory, args=["--no-rate-limits"]).start()
    try:
        page = admin_api(http, first, WALK_ACCOUNT).get("/users", page_size="7").json()
    finally:
        first.stop()
    answers = {}
    for minutes in (14, 16):
        ahead = (datetime.now(UTC) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
        args = ["--no-rate-limits", "--clock-start", ahead]
        later = ServerProcess(population.directory, args=args).start()
        try:
            api = admin_api(http, later, WALK_ACCOUNT)
            answers[minutes] = api.get(
                "/users", page_size="7", next_page_token=page["next_page_token"]
            )
        finally:
            later.stop()
    return answers


def test_token_expired(aged_page_token: dict[int, httpx.Response]):
    assert_zoom_error(aged_page_token[16], 400, BAD_PAGE_TOKEN)


def test_token_alive_at_14_minutes(aged_page_token: dict[int, httpx.Response]):
    assert aged_page_token[14].status_code == 200
    assert aged_page_token[14].json()["page_number"] == 2
