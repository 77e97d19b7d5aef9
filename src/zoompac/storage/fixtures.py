"""Fixture documents: the JSON or YAML format that describes accounts, apps, users and PAC accounts.

A document loads in one transaction: if any entry is invalid or clashes with stored data, nothing
is written and the error names the entry, for example `accounts[0].users[2].email`.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine

from zoompac.domain.errors import FixtureError
from zoompac.domain.models import AppKind, Plan, UserStatus
from zoompac.domain.secrets import (
    hash_client_secret,
    new_conference_id,
    new_pac_password,
    new_user_id,
)
from zoompac.storage.tables import accounts, apps, dial_in_numbers, pac_accounts, users

DEMO_ACCOUNT_ID = "demo-account"

_SECRET_HASH = re.compile(r"scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+")
_EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Password = Annotated[str, Field(min_length=1, max_length=6)]


class _Entry(BaseModel):
    # Unknown keys are errors, so a typo such as `pac_enable` cannot pass unnoticed.
    model_config = ConfigDict(extra="forbid")


class DialInNumberEntry(_Entry):
    number: Annotated[str, Field(min_length=1, max_length=16)]
    country: Annotated[str, Field(min_length=1, max_length=64)]


class PacAccountEntry(_Entry):
    """A PAC account, keyed as in Zoom's response body so that a captured body can be pasted."""

    conference_id: Annotated[int, Field(gt=0, lt=2**63)] | None = None
    participant_password: Password | None = None
    listen_only_password: Password | None = None
    dedicated_dial_in_number: list[DialInNumberEntry] = []
    global_dial_in_numbers: list[DialInNumberEntry] = []

    @field_validator("conference_id", mode="before")
    @classmethod
    def _accept_digit_strings(cls, value: Any) -> Any:
        # Zoom's examples show conference ids both as strings and as integers.
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        return value


class UserEntry(_Entry):
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = (
        None
    )
    email: Annotated[str, Field(max_length=128, pattern=_EMAIL_PATTERN)]
    first_name: Annotated[str, Field(max_length=64)] = ""
    last_name: Annotated[str, Field(max_length=64)] = ""
    type: Literal[1, 2, 4, 99] = 2
    status: UserStatus = UserStatus.ACTIVE
    pac_enabled: bool = True
    pac_accounts: list[PacAccountEntry] = []


class AppEntry(_Entry):
    client_id: Annotated[str, Field(min_length=1, max_length=128)]
    client_secret: Annotated[str, Field(min_length=1)] | None = None
    client_secret_hash: str | None = None
    kind: AppKind = AppKind.SERVER_TO_SERVER
    scopes: list[Annotated[str, Field(pattern=r"^\S+$")]] = []
    redirect_uri: str | None = None
    active: bool = True

    @field_validator("scopes", mode="before")
    @classmethod
    def _split_scope_string(cls, value: Any) -> Any:
        return value.split() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_secret(self) -> AppEntry:
        if (self.client_secret is None) == (self.client_secret_hash is None):
            raise ValueError("give exactly one of client_secret and client_secret_hash")
        if self.client_secret_hash is not None and not _SECRET_HASH.fullmatch(
            self.client_secret_hash
        ):
            raise ValueError(
                "client_secret_hash must be a hash as `zoompac export` writes it "
                "(scrypt$N$r$p$salt$digest); give client_secret to store a new secret"
            )
        if self.kind is AppKind.USER and not self.redirect_uri:
            raise ValueError("a user app needs a redirect_uri, where consent redirects to")
        return self


class AccountEntry(_Entry):
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Annotated[str, Field(max_length=255)] | None = None
    plan: Plan = Plan.PRO
    audio_conferencing: bool = True
    pac_enabled: bool = True
    apps: list[AppEntry] = []
    users: list[UserEntry] = []


class FixtureDocument(_Entry):
    version: Literal[1] = 1
    accounts: list[AccountEntry] = []


@dataclass(frozen=True, slots=True)
class LoadSummary:
    accounts: int
    apps: int
    users: int
    pac_accounts: int


def demo_fixture_text() -> str:
    return resources.files("zoompac").joinpath("fixtures/demo.yaml").read_text(encoding="utf-8")


def read_fixture_file(path: Path) -> FixtureDocument:
    """Parse a fixture file; `.json` files as JSON, anything else as YAML (a superset of JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(str(path), f"cannot read the file: {exc}") from exc
    return parse_fixture(text, is_json=path.suffix.lower() == ".json")


def parse_fixture(text: str, *, is_json: bool = False) -> FixtureDocument:
    # Imported here: a server started without fixtures never needs the YAML parser.
    import yaml

    try:
        data = json.loads(text) if is_json else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        kind = "JSON" if is_json else "YAML"
        raise FixtureError("", f"the document is not valid {kind}: {exc}") from exc
    if not isinstance(data, dict):
        raise FixtureError("", "the document must be a mapping with an `accounts` list")
    try:
        return FixtureDocument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FixtureError(_location(first["loc"]), first["msg"]) from exc


def load_fixture(
    engine: Engine, document: FixtureDocument, *, replace: bool = False
) -> LoadSummary:
    """Insert every entry of `document` in one transaction.

    With `replace`, accounts whose ids the document uses are deleted first, with everything they
    own. Without it, an account id, client id, user id or e-mail that is already stored is an
    error.
    """
    _check_unique_within(document)
    with engine.begin() as connection:
        if replace:
            ids = [account.id for account in document.accounts]
            connection.execute(delete(accounts).where(accounts.c.id.in_(ids)))
        _check_unique_against_store(connection, document)
        return _insert(connection, document)


def insert_documents(connection: Connection, documents: list[FixtureDocument]) -> None:
    """Insert already-validated documents on an open connection, for whole-state resets."""
    for document in documents:
        _check_unique_within(document)
        _insert(connection, document)


def account_exists(engine: Engine, account_id: str) -> bool:
    with engine.connect() as connection:
        found = connection.execute(select(accounts.c.id).where(accounts.c.id == account_id))
        return found.first() is not None


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = str(part)
    return text


def _check_unique_within(document: FixtureDocument) -> None:
    seen: dict[str, set[str]] = {"account": set(), "client": set(), "user": set(), "email": set()}

    def claim(kind: str, key: str, location: str, label: str) -> None:
        if key in seen[kind]:
            raise FixtureError(location, f"{label} {key!r} appears more than once in the document")
        seen[kind].add(key)

    for a, account in enumerate(document.accounts):
        claim("account", account.id, f"accounts[{a}].id", "account id")
        for p, app in enumerate(account.apps):
            claim("client", app.client_id, f"accounts[{a}].apps[{p}].client_id", "client id")
        conference_ids: set[int] = set()
        for u, user in enumerate(account.users):
            where = f"accounts[{a}].users[{u}]"
            if user.id is not None:
                claim("user", user.id, f"{where}.id", "user id")
            claim("email", user.email.lower(), f"{where}.email", "e-mail")
            for c, pac in enumerate(user.pac_accounts):
                if pac.conference_id is None:
                    continue
                if pac.conference_id in conference_ids:
                    raise FixtureError(
                        f"{where}.pac_accounts[{c}].conference_id",
                        f"conference id {pac.conference_id} is used twice in account "
                        f"{account.id!r}",
                    )
                conference_ids.add(pac.conference_id)


def _check_unique_against_store(connection: Connection, document: FixtureDocument) -> None:
    stored_accounts = set(connection.execute(select(accounts.c.id)).scalars())
    stored_clients = set(connection.execute(select(apps.c.client_id)).scalars())
    stored_users = set(connection.execute(select(users.c.id)).scalars())
    stored_emails = set(connection.execute(select(users.c.email_key)).scalars())

    for a, account in enumerate(document.accounts):
        if account.id in stored_accounts:
            raise FixtureError(
                f"accounts[{a}].id",
                f"account {account.id!r} already exists; load it with replace "
                "(zoompac load --replace, or ?replace=true on the control plane) to overwrite it",
            )
        for p, app in enumerate(account.apps):
            if app.client_id in stored_clients:
                raise FixtureError(
                    f"accounts[{a}].apps[{p}].client_id",
                    f"client id {app.client_id!r} already belongs to another account",
                )
        for u, user in enumerate(account.users):
            if user.id is not None and user.id in stored_users:
                raise FixtureError(
                    f"accounts[{a}].users[{u}].id", f"user id {user.id!r} already exists"
                )
            if user.email.lower() in stored_emails:
                raise FixtureError(
                    f"accounts[{a}].users[{u}].email",
                    f"e-mail {user.email!r} already belongs to another user",
                )


def _insert(connection: Connection, document: FixtureDocument) -> LoadSummary:
    now = int(time.time())
    counts = {"apps": 0, "users": 0, "pac_accounts": 0}
    for account in document.accounts:
        connection.execute(
            insert(accounts).values(
                id=account.id,
                name=account.name or account.id,
                plan=account.plan.value,
                audio_conferencing=account.audio_conferencing,
                pac_enabled=account.pac_enabled,
                created_at=now,
            )
        )
        for app in account.apps:
            _insert_app(connection, account.id, app, now)
            counts["apps"] += 1
        used_conference_ids = {
            pac.conference_id
            for user in account.users
            for pac in user.pac_accounts
            if pac.conference_id is not None
        }
        for user in account.users:
            counts["pac_accounts"] += _insert_user(
                connection, account.id, user, used_conference_ids, now
            )
            counts["users"] += 1
    return LoadSummary(
        len(document.accounts), counts["apps"], counts["users"], counts["pac_accounts"]
    )


def _insert_app(connection: Connection, account_id: str, app: AppEntry, now: int) -> None:
    secret_hash = app.client_secret_hash
    if app.client_secret is not None:
        secret_hash = hash_client_secret(app.client_secret)
    connection.execute(
        insert(apps).values(
            client_id=app.client_id,
            client_secret_hash=secret_hash,
            kind=app.kind.value,
            account_id=account_id,
            scopes=" ".join(app.scopes),
            redirect_uri=app.redirect_uri,
            active=app.active,
            created_at=now,
        )
    )


def _insert_user(
    connection: Connection,
    account_id: str,
    user: UserEntry,
    used_conference_ids: set[int],
    now: int,
) -> int:
    user_id = user.id or new_user_id()
    connection.execute(insert(users).values(user_row(user, user_id, account_id, now)))
    for pac in user.pac_accounts:
        conference_id = pac.conference_id or _unused_conference_id(used_conference_ids)
        pac_account_id = connection.execute(
            insert(pac_accounts)
            .values(
                user_id=user_id,
                account_id=account_id,
                conference_id=conference_id,
                participant_password=pac.participant_password or new_pac_password(),
                listen_only_password=pac.listen_only_password or new_pac_password(),
            )
            .returning(pac_accounts.c.id)
        ).scalar_one()
        numbers = [("dedicated", n) for n in pac.dedicated_dial_in_number] + [
            ("global", n) for n in pac.global_dial_in_numbers
        ]
        if numbers:
            connection.execute(
                insert(dial_in_numbers),
                [
                    {
                        "pac_account_id": pac_account_id,
                        "kind": kind,
                        "number": number.number,
                        "country": number.country,
                    }
                    for kind, number in numbers
                ],
            )
    return len(user.pac_accounts)


def user_row(user: UserEntry, user_id: str, account_id: str, created_at: int) -> dict[str, Any]:
    """Return the `users` row of a validated entry; `email_key` makes e-mails case-insensitive."""
    return {
        "id": user_id,
        "account_id": account_id,
        "email": user.email,
        "email_key": user.email.lower(),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "type": user.type,
        "status": user.status.value,
        "pac_enabled": user.pac_enabled,
        "created_at": created_at,
    }


def _unused_conference_id(used: set[int]) -> int:
    while (candidate := new_conference_id()) in used:
        pass
    used.add(candidate)
    return candidate


def resolved(document: FixtureDocument) -> FixtureDocument:
    """Return a copy of `document` with every generated value filled in and secrets hashed.

    Loading the copy again stores the same user ids, conference ids and passwords, and skips
    scrypt, so a control-plane reset restores exactly what the first load stored, quickly.
    """
    copy = with_hashed_secrets(document)
    for account in copy.accounts:
        used = {
            pac.conference_id
            for user in account.users
            for pac in user.pac_accounts
            if pac.conference_id is not None
        }
        for user in account.users:
            user.id = user.id or new_user_id()
            for pac in user.pac_accounts:
                pac.conference_id = pac.conference_id or _unused_conference_id(used)
                pac.participant_password = pac.participant_password or new_pac_password()
                pac.listen_only_password = pac.listen_only_password or new_pac_password()
    return copy


def is_resolved(document: FixtureDocument) -> bool:
    """Whether `document` has no plain secrets left, as `resolved` leaves it."""
    return all(app.client_secret is None for account in document.accounts for app in account.apps)


def without_accounts(document: FixtureDocument, account_ids: set[str]) -> FixtureDocument:
    kept = [account for account in document.accounts if account.id not in account_ids]
    return document.model_copy(update={"accounts": kept})


def with_hashed_secrets(document: FixtureDocument) -> FixtureDocument:
    """Return a copy of `document` whose apps carry hashes instead of plain secrets."""
    copy = document.model_copy(deep=True)
    for account in copy.accounts:
        for app in account.apps:
            if app.client_secret is not None:
                app.client_secret_hash = hash_client_secret(app.client_secret)
                app.client_secret = None
    return copy
