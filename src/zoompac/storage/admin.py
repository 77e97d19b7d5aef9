"""Provisioning: create, change and delete accounts, apps, users and PAC accounts.

Each write runs in one transaction, so a rejected request changes nothing. Values are checked
against the models of `zoompac.storage.fixtures`, so everything stored here can be exported with
`export_fixture` and loaded again with `load_fixture`. Rejections raise `InvalidValue`, `NotFound`
or `Conflict`, each with a message that names the value.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import ColumnElement, Row, Table, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from zoompac.domain.errors import Conflict, InvalidValue, NotFound
from zoompac.domain.models import (
    Account,
    App,
    AppKind,
    DialInKind,
    DialInNumber,
    PacAccount,
    Plan,
    User,
    UserStatus,
)
from zoompac.domain.secrets import (
    hash_client_secret,
    new_conference_id,
    new_identifier,
    new_pac_password,
    new_user_id,
)
from zoompac.storage.fixtures import (
    AccountEntry,
    AppEntry,
    DialInNumberEntry,
    PacAccountEntry,
    UserEntry,
    user_row,
)
from zoompac.storage.repository import account_from_row, app_from_row, user_from_row
from zoompac.storage.tables import (
    access_tokens,
    accounts,
    apps,
    authorization_codes,
    dial_in_numbers,
    pac_accounts,
    refresh_tokens,
    users,
)

_Entry = TypeVar("_Entry", bound=BaseModel)

# Client ids travel in HTTP Basic credentials, where ":" would split them, and in query strings.
_CLIENT_ID_PATTERN = re.compile(r"[A-Za-z0-9._~-]+")
# E.164 allows at most 15 digits, and with a "+" they fit the 16 characters of the fixture format.
_DIAL_IN_NUMBER_PATTERN = re.compile(r"\+?[0-9]{1,15}")

# Names of fixture fields as messages show them.
_FIELD_LABELS = {
    "name": "account name",
    "plan": "plan",
    "client_id": "client id",
    "client_secret": "client secret",
    "kind": "app kind",
    "scopes": "scope",
    "email": "e-mail address",
    "first_name": "first name",
    "last_name": "last name",
    "type": "user type",
    "status": "user status",
    "conference_id": "conference id",
    "participant_password": "participant password",
    "listen_only_password": "listen-only password",
    "number": "dial-in number",
    "country": "dial-in country",
}
# Plain-language rules for the patterns of the fixture models, by field label.
_PATTERN_RULES = {
    "account id": "use only letters, digits, '.', '_' and '-'",
    "user id": "use only letters, digits, '_' and '-'",
    "e-mail address": "expected an address such as name@example.com",
    "scope": "a scope contains no spaces, so give each scope separately",
}


@dataclass(frozen=True, slots=True)
class AppCredentials:
    """An app and its plain client secret, which exists only here: the store keeps its hash."""

    app: App
    client_secret: str


@dataclass(frozen=True, slots=True)
class AccountContents:
    """How many apps, users and PAC accounts an account held."""

    apps: int
    users: int
    pac_accounts: int


@dataclass(frozen=True, slots=True)
class DeletedUser:
    user: User
    pac_accounts: int


# Checks of single values, shared with the command line so it can reject input early.


def check_pac_password(value: str, field: str = "PAC password") -> str:
    """Return `value` if it is a valid PAC password, else raise `InvalidValue`."""
    _validated(PacAccountEntry, {"participant_password": value}, {"participant_password": field})
    return value


def check_dial_in_number(number: str, country: str) -> DialInNumberEntry:
    """Validate a dial-in number and its country, returning them as a fixture entry."""
    entry = _validated(DialInNumberEntry, {"number": number, "country": country})
    if not _DIAL_IN_NUMBER_PATTERN.fullmatch(number):
        raise InvalidValue(
            "dial-in number", number, "use 1 to 15 digits, optionally after a leading '+'"
        )
    if not country.strip():
        raise InvalidValue("dial-in country", country, "give a country name or code, such as US")
    return entry


def check_redirect_uri(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidValue("redirect URI", value, "expected an absolute http:// or https:// URL")
    return value


# Accounts


def create_account(
    engine: Engine,
    account_id: str | None = None,
    *,
    name: str | None = None,
    plan: Plan = Plan.PRO,
    audio_conferencing: bool = True,
    pac_enabled: bool = True,
) -> Account:
    """Store a new account. Without `account_id`, generate a Zoom-style 22-character id."""
    entry = _validated(
        AccountEntry,
        {
            "id": account_id or new_identifier(),
            "name": name,
            "plan": plan,
            "audio_conferencing": audio_conferencing,
            "pac_enabled": pac_enabled,
        },
        {"id": "account id"},
    )
    with _transaction(engine) as connection:
        if _account_row(connection, entry.id) is not None:
            raise Conflict(f"Account {entry.id!r} already exists: choose another account id.")
        connection.execute(
            insert(accounts).values(
                id=entry.id,
                name=entry.name or entry.id,
                plan=entry.plan.value,
                audio_conferencing=entry.audio_conferencing,
                pac_enabled=entry.pac_enabled,
                created_at=int(time.time()),
            )
        )
        return account_from_row(_require_account(connection, entry.id))


def update_account(
    engine: Engine,
    account_id: str,
    *,
    name: str | None = None,
    plan: Plan | None = None,
    audio_conferencing: bool | None = None,
    pac_enabled: bool | None = None,
) -> Account:
    """Change the given fields of an account. Fields left as None keep their value."""
    changes = _given(
        name=name, plan=plan, audio_conferencing=audio_conferencing, pac_enabled=pac_enabled
    )
    with _transaction(engine) as connection:
        current = account_from_row(_require_account(connection, account_id))
        entry = _validated(
            AccountEntry,
            {
                "id": current.id,
                "name": current.name,
                "plan": current.plan,
                "audio_conferencing": current.audio_conferencing,
                "pac_enabled": current.pac_enabled,
                **changes,
            },
            {"id": "account id"},
        )
        connection.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(
                name=entry.name or entry.id,
                plan=entry.plan.value,
                audio_conferencing=entry.audio_conferencing,
                pac_enabled=entry.pac_enabled,
            )
        )
        return account_from_row(_require_account(connection, account_id))


def delete_account(engine: Engine, account_id: str) -> AccountContents:
    """Delete an account with its apps, their tokens, its users and their PAC accounts."""
    with _transaction(engine) as connection:
        _require_account(connection, account_id)
        contents = AccountContents(
            apps=_count(connection, apps, apps.c.account_id == account_id),
            users=_count(connection, users, users.c.account_id == account_id),
            pac_accounts=_count(connection, pac_accounts, pac_accounts.c.account_id == account_id),
        )
        # The foreign keys cascade the delete to everything the account owns.
        connection.execute(delete(accounts).where(accounts.c.id == account_id))
        return contents


def list_accounts(engine: Engine) -> list[Account]:
    with engine.connect() as connection:
        rows = connection.execute(select(accounts).order_by(accounts.c.id)).all()
    return [account_from_row(row) for row in rows]


# Apps


def create_app(
    engine: Engine,
    account_id: str,
    *,
    kind: AppKind = AppKind.SERVER_TO_SERVER,
    scopes: Sequence[str] = (),
    redirect_uri: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    active: bool = True,
) -> AppCredentials:
    """Store a new app and return its plain client secret, the only time it is available.

    Without `client_id`, a 22-character URL-safe id is generated, and without `client_secret`,
    a 32-character one. A user app needs a redirect URI, and a Server-to-Server app takes none.
    """
    client_id = client_id if client_id is not None else new_identifier()
    client_secret = client_secret if client_secret is not None else secrets.token_urlsafe(24)
    entry = _validated(
        AppEntry,
        {
            "client_id": client_id,
            "client_secret": client_secret,
            "kind": kind,
            "scopes": _unique(scopes),
            "redirect_uri": redirect_uri,
            "active": active,
        },
    )
    _check_client_id(entry.client_id)
    _check_redirect_uri_for(entry.kind, entry.redirect_uri)
    # Hashing costs tens of milliseconds, so it runs before the transaction takes the write lock.
    secret_hash = hash_client_secret(client_secret)

    with _transaction(engine) as connection:
        _require_account(connection, account_id)
        if _app_row(connection, entry.client_id) is not None:
            raise Conflict(
                f"Client id {entry.client_id!r} is already used by another app: choose another "
                "client id, or leave it out to generate one."
            )
        connection.execute(
            insert(apps).values(
                client_id=entry.client_id,
                client_secret_hash=secret_hash,
                kind=entry.kind.value,
                account_id=account_id,
                scopes=" ".join(entry.scopes),
                redirect_uri=entry.redirect_uri,
                active=entry.active,
                created_at=int(time.time()),
            )
        )
        return AppCredentials(
            app_from_row(_require_app(connection, entry.client_id)), client_secret
        )


def update_app(
    engine: Engine,
    client_id: str,
    *,
    active: bool | None = None,
    scopes: Sequence[str] | None = None,
    redirect_uri: str | None = None,
) -> App:
    """Change the given fields of an app. Fields left as None keep their value.

    Deactivating an app makes its issued tokens fail at once, because every API call checks
    that the token's app is active. New `scopes` apply to tokens issued later, because each
    token keeps the scopes it was issued with.
    """
    with _transaction(engine) as connection:
        current = app_from_row(_require_app(connection, client_id))
        new_scopes = current.scopes if scopes is None else tuple(_unique(scopes))
        new_redirect_uri = current.redirect_uri if redirect_uri is None else redirect_uri
        entry = _validated(
            AppEntry,
            {
                "client_id": current.client_id,
                "client_secret_hash": current.client_secret_hash,
                "kind": current.kind,
                "scopes": list(new_scopes),
                "redirect_uri": new_redirect_uri,
                "active": current.active if active is None else active,
            },
        )
        _check_redirect_uri_for(entry.kind, entry.redirect_uri)
        connection.execute(
            update(apps)
            .where(apps.c.client_id == client_id)
            .values(
                scopes=" ".join(entry.scopes),
                redirect_uri=entry.redirect_uri,
                active=entry.active,
            )
        )
        return app_from_row(_require_app(connection, client_id))


def rotate_app_secret(
    engine: Engine,
    client_id: str,
    *,
    client_secret: str | None = None,
    revoke_tokens: bool = False,
) -> AppCredentials:
    """Replace an app's client secret and return the new one in plain text, this once.

    Tokens issued with the old secret stay valid until they expire, unless `revoke_tokens` also
    revokes the app's access tokens, refresh tokens and authorization codes.
    """
    client_secret = client_secret if client_secret is not None else secrets.token_urlsafe(24)
    _validated(AppEntry, {"client_id": client_id, "client_secret": client_secret})
    secret_hash = hash_client_secret(client_secret)
    with _transaction(engine) as connection:
        app = app_from_row(_require_app(connection, client_id))
        connection.execute(
            update(apps).where(apps.c.id == app.id).values(client_secret_hash=secret_hash)
        )
        if revoke_tokens:
            connection.execute(
                update(access_tokens).where(access_tokens.c.app_id == app.id).values(revoked=True)
            )
            # A refresh token or an authorization code would mint new access tokens otherwise.
            connection.execute(
                update(refresh_tokens).where(refresh_tokens.c.app_id == app.id).values(used=True)
            )
            connection.execute(
                update(authorization_codes)
                .where(authorization_codes.c.app_id == app.id)
                .values(used=True)
            )
        return AppCredentials(app_from_row(_require_app(connection, client_id)), client_secret)


def delete_app(engine: Engine, client_id: str) -> App:
    """Delete an app with its tokens, which therefore fail at once."""
    with _transaction(engine) as connection:
        app = app_from_row(_require_app(connection, client_id))
        connection.execute(delete(apps).where(apps.c.id == app.id))
        return app


def list_apps(engine: Engine, account_id: str | None = None) -> list[App]:
    """List the apps of one account, or of every account, in the order they were created."""
    with engine.connect() as connection:
        query = select(apps).order_by(apps.c.id)
        if account_id is not None:
            _require_account(connection, account_id)
            query = query.where(apps.c.account_id == account_id)
        rows = connection.execute(query).all()
    return [app_from_row(row) for row in rows]


# Users


def create_user(
    engine: Engine,
    account_id: str,
    email: str,
    *,
    user_id: str | None = None,
    first_name: str = "",
    last_name: str = "",
    user_type: int = 2,
    status: UserStatus = UserStatus.ACTIVE,
    pac_enabled: bool = True,
) -> User:
    """Store a new user whose e-mail address no other user has, compared case-insensitively."""
    user_id = user_id if user_id is not None else new_user_id()
    entry = _validated(
        UserEntry,
        {
            "id": user_id,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "type": user_type,
            "status": status,
            "pac_enabled": pac_enabled,
        },
        {"id": "user id"},
    )
    with _transaction(engine) as connection:
        _require_account(connection, account_id)
        if _user_row_by_id(connection, user_id) is not None:
            raise Conflict(
                f"User id {user_id!r} is already used: choose another user id, or leave it out "
                "to generate one."
            )
        _check_email_unused(connection, entry.email, except_user_id=None)
        connection.execute(
            insert(users).values(user_row(entry, user_id, account_id, int(time.time())))
        )
        return user_from_row(_require_user(connection, user_id))


def update_user(
    engine: Engine,
    user_ref: str,
    *,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    user_type: int | None = None,
    status: UserStatus | None = None,
    pac_enabled: bool | None = None,
) -> User:
    """Change the given fields of the user that `user_ref` (an id or an e-mail address) names."""
    changes = _given(
        email=email,
        first_name=first_name,
        last_name=last_name,
        type=user_type,
        status=status,
        pac_enabled=pac_enabled,
    )
    with _transaction(engine) as connection:
        current = user_from_row(_require_user(connection, user_ref))
        entry = _validated(
            UserEntry,
            {
                "id": current.id,
                "email": current.email,
                "first_name": current.first_name,
                "last_name": current.last_name,
                "type": current.type,
                "status": current.status,
                "pac_enabled": current.pac_enabled,
                **changes,
            },
            {"id": "user id"},
        )
        _check_email_unused(connection, entry.email, except_user_id=current.id)
        connection.execute(
            update(users)
            .where(users.c.id == current.id)
            .values(
                email=entry.email,
                email_key=entry.email.lower(),
                first_name=entry.first_name,
                last_name=entry.last_name,
                type=entry.type,
                status=entry.status.value,
                pac_enabled=entry.pac_enabled,
            )
        )
        return user_from_row(_require_user(connection, current.id))


def delete_user(engine: Engine, user_ref: str) -> DeletedUser:
    """Delete a user with their PAC accounts, and revoke the tokens issued on their behalf."""
    with _transaction(engine) as connection:
        user = user_from_row(_require_user(connection, user_ref))
        count = _count(connection, pac_accounts, pac_accounts.c.user_id == user.id)
        # access_tokens.user_id has no foreign key, so the user's tokens are revoked here.
        connection.execute(
            update(access_tokens).where(access_tokens.c.user_id == user.id).values(revoked=True)
        )
        # The foreign keys cascade the delete to the PAC accounts and their dial-in numbers.
        connection.execute(delete(users).where(users.c.id == user.id))
        return DeletedUser(user, count)


def find_user(engine: Engine, user_ref: str) -> User:
    """Return the user that `user_ref` names: an id, or an e-mail address in any case."""
    with engine.connect() as connection:
        return user_from_row(_require_user(connection, user_ref))


def list_users(engine: Engine, account_id: str | None = None) -> list[User]:
    """List the users of one account, or of every account, by account and e-mail address."""
    with engine.connect() as connection:
        query = select(users).order_by(users.c.account_id, users.c.email_key)
        if account_id is not None:
            _require_account(connection, account_id)
            query = query.where(users.c.account_id == account_id)
        rows = connection.execute(query).all()
    return [user_from_row(row) for row in rows]


# PAC accounts


def create_pac_account(
    engine: Engine,
    user_ref: str,
    *,
    conference_id: int | None = None,
    participant_password: str | None = None,
    listen_only_password: str | None = None,
    numbers: Sequence[DialInNumber] = (),
) -> PacAccount:
    """Give a user a new PAC account.

    Without `conference_id`, a 10-digit id that no PAC account of the user's account uses is
    generated, and without passwords, 6-digit ones are. Dial-in numbers keep the given order within
    each kind.
    """
    entry = _validated(
        PacAccountEntry,
        {
            "conference_id": conference_id,
            "participant_password": (
                participant_password if participant_password is not None else new_pac_password()
            ),
            "listen_only_password": (
                listen_only_password if listen_only_password is not None else new_pac_password()
            ),
        },
    )
    checked = _checked_numbers(numbers)
    with _transaction(engine) as connection:
        user = user_from_row(_require_user(connection, user_ref))
        used = set(
            connection.execute(
                select(pac_accounts.c.conference_id).where(
                    pac_accounts.c.account_id == user.account_id
                )
            ).scalars()
        )
        if entry.conference_id is None:
            new_id = new_conference_id()
            while new_id in used:
                new_id = new_conference_id()
        elif entry.conference_id in used:
            raise Conflict(
                f"Conference id {entry.conference_id} is already used in account "
                f"{user.account_id!r}, and conference ids are unique within an account. Choose "
                "another, or leave it out to generate one."
            )
        else:
            new_id = entry.conference_id
        pac_id = connection.execute(
            insert(pac_accounts)
            .values(
                user_id=user.id,
                account_id=user.account_id,
                conference_id=new_id,
                participant_password=entry.participant_password,
                listen_only_password=entry.listen_only_password,
            )
            .returning(pac_accounts.c.id)
        ).scalar_one()
        _insert_numbers(connection, pac_id, checked)
        return _read_pac_account(connection, pac_id)


def update_pac_account(
    engine: Engine,
    user_ref: str,
    conference_id: int,
    *,
    participant_password: str | None = None,
    listen_only_password: str | None = None,
) -> PacAccount:
    """Change the passwords of a user's PAC account. A password left as None keeps its value."""
    if participant_password is not None:
        check_pac_password(participant_password, "participant password")
    if listen_only_password is not None:
        check_pac_password(listen_only_password, "listen-only password")
    changes = _given(
        participant_password=participant_password, listen_only_password=listen_only_password
    )
    with _transaction(engine) as connection:
        pac_id = _require_pac_account(connection, user_ref, conference_id)
        if changes:
            connection.execute(
                update(pac_accounts).where(pac_accounts.c.id == pac_id).values(**changes)
            )
        return _read_pac_account(connection, pac_id)


def set_dial_in_numbers(
    engine: Engine, user_ref: str, conference_id: int, numbers: Sequence[DialInNumber]
) -> PacAccount:
    """Replace all dial-in numbers of a user's PAC account with `numbers`, which may be empty."""
    checked = _checked_numbers(numbers)
    with _transaction(engine) as connection:
        pac_id = _require_pac_account(connection, user_ref, conference_id)
        connection.execute(
            delete(dial_in_numbers).where(dial_in_numbers.c.pac_account_id == pac_id)
        )
        _insert_numbers(connection, pac_id, checked)
        return _read_pac_account(connection, pac_id)


def delete_pac_account(engine: Engine, user_ref: str, conference_id: int) -> None:
    """Delete a user's PAC account, named by its conference id, with its dial-in numbers."""
    with _transaction(engine) as connection:
        pac_id = _require_pac_account(connection, user_ref, conference_id)
        connection.execute(delete(pac_accounts).where(pac_accounts.c.id == pac_id))


def list_pac_accounts(engine: Engine, user_ref: str) -> tuple[User, list[PacAccount]]:
    """Return a user and their PAC accounts in the order they were created."""
    with engine.connect() as connection:
        user = user_from_row(_require_user(connection, user_ref))
        ids = connection.execute(
            select(pac_accounts.c.id)
            .where(pac_accounts.c.user_id == user.id)
            .order_by(pac_accounts.c.id)
        ).scalars()
        return user, [_read_pac_account(connection, pac_id) for pac_id in ids.all()]


# Helpers


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    """Run a block in one transaction, reporting a unique-key clash as `Conflict`.

    The checks before each insert name the clashing value. This catches the clash that another
    process causes between such a check and the insert.
    """
    try:
        with engine.begin() as connection:
            yield connection
    except IntegrityError as exc:
        raise Conflict(
            f"The change clashes with data stored at the same time by another process, so "
            f"nothing was changed. Try again. The database reported: {exc.orig}"
        ) from exc


def _validated(
    model: type[_Entry], values: dict[str, Any], labels: dict[str, str] | None = None
) -> _Entry:
    """Validate `values` with a fixture model, raising `InvalidValue` for the first bad one.

    `labels` names fields in messages where `_FIELD_LABELS` does not fit, such as `id`.
    """
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = next((part for part in reversed(error["loc"]) if isinstance(part, str)), "")
        label = {**_FIELD_LABELS, **(labels or {})}.get(name, name)
        raise InvalidValue(label, error["input"], _allowed(error, label)) from exc


def _allowed(error: ErrorDetails, label: str) -> str:
    context = error.get("ctx", {})
    match error["type"]:
        case "string_pattern_mismatch":
            return _PATTERN_RULES.get(label, f"expected text matching {context['pattern']}")
        case "string_too_long":
            return f"use at most {context['max_length']} characters"
        case "string_too_short":
            minimum = context["min_length"]
            return f"use at least {minimum} character{'s' if minimum != 1 else ''}"
        case "enum" | "literal_error":
            return f"expected {context['expected']}"
    message = error["msg"]
    return message[:1].lower() + message[1:]


def _given(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _check_client_id(client_id: str) -> None:
    if not _CLIENT_ID_PATTERN.fullmatch(client_id):
        raise InvalidValue(
            "client id", client_id, "use only letters, digits, '.', '_', '~' and '-'"
        )


def _check_redirect_uri_for(kind: AppKind, redirect_uri: str | None) -> None:
    if kind is AppKind.USER:
        if redirect_uri is None:
            raise InvalidValue(
                "app kind",
                kind.value,
                "a user app needs a redirect URI, the URL that Zoom sends users back to",
            )
        check_redirect_uri(redirect_uri)
    elif redirect_uri is not None:
        raise InvalidValue(
            "redirect URI",
            redirect_uri,
            "a Server-to-Server app takes none, because only user apps redirect users",
        )


def _checked_numbers(numbers: Sequence[DialInNumber]) -> list[DialInNumber]:
    for number in numbers:
        check_dial_in_number(number.number, number.country)
    return list(numbers)


def _insert_numbers(connection: Connection, pac_id: int, numbers: list[DialInNumber]) -> None:
    if numbers:
        connection.execute(
            insert(dial_in_numbers),
            [
                {
                    "pac_account_id": pac_id,
                    "kind": number.kind.value,
                    "number": number.number,
                    "country": number.country,
                }
                for number in numbers
            ],
        )


def _read_pac_account(connection: Connection, pac_id: int) -> PacAccount:
    row = connection.execute(select(pac_accounts).where(pac_accounts.c.id == pac_id)).one()
    numbers = connection.execute(
        select(dial_in_numbers)
        .where(dial_in_numbers.c.pac_account_id == pac_id)
        .order_by(dial_in_numbers.c.id)
    ).all()
    return PacAccount(
        conference_id=row.conference_id,
        participant_password=row.participant_password,
        listen_only_password=row.listen_only_password,
        dial_in_numbers=tuple(
            DialInNumber(DialInKind(number.kind), number.number, number.country)
            for number in numbers
        ),
    )


def _count(connection: Connection, table: Table, condition: ColumnElement[bool]) -> int:
    query = select(func.count()).select_from(table).where(condition)
    return int(connection.execute(query).scalar_one())


def _account_row(connection: Connection, account_id: str) -> Row[Any] | None:
    return connection.execute(select(accounts).where(accounts.c.id == account_id)).first()


def _require_account(connection: Connection, account_id: str) -> Row[Any]:
    row = _account_row(connection, account_id)
    if row is None:
        raise NotFound("Account", account_id, "Give the id of a stored account.")
    return row


def _app_row(connection: Connection, client_id: str) -> Row[Any] | None:
    return connection.execute(select(apps).where(apps.c.client_id == client_id)).first()


def _require_app(connection: Connection, client_id: str) -> Row[Any]:
    row = _app_row(connection, client_id)
    if row is None:
        raise NotFound("App", client_id, "Give the client id of a stored app.")
    return row


def _user_row_by_id(connection: Connection, user_id: str) -> Row[Any] | None:
    return connection.execute(select(users).where(users.c.id == user_id)).first()


def _require_user(connection: Connection, user_ref: str) -> Row[Any]:
    # User ids never contain "@", so a reference with "@" is looked up as an e-mail address.
    by_email = "@" in user_ref
    condition = users.c.email_key == user_ref.lower() if by_email else users.c.id == user_ref
    row = connection.execute(select(users).where(condition)).first()
    if row is None:
        raise NotFound("User", user_ref, "Give the id or the e-mail address of a stored user.")
    return row


def _check_email_unused(connection: Connection, email: str, except_user_id: str | None) -> None:
    owner = connection.execute(
        select(users.c.id, users.c.email).where(users.c.email_key == email.lower())
    ).first()
    if owner is not None and owner.id != except_user_id:
        raise Conflict(
            f"E-mail address {email!r} is already used by user {owner.id!r} as "
            f"{owner.email!r}, and e-mail addresses are unique regardless of case."
        )


def _require_pac_account(connection: Connection, user_ref: str, conference_id: int) -> int:
    user = user_from_row(_require_user(connection, user_ref))
    rows = connection.execute(
        select(pac_accounts.c.id, pac_accounts.c.conference_id)
        .where(pac_accounts.c.user_id == user.id)
        .order_by(pac_accounts.c.id)
    ).all()
    for row in rows:
        if row.conference_id == conference_id:
            return int(row.id)
    if rows:
        known = ", ".join(str(row.conference_id) for row in rows)
        hint = f"User {user_ref!r} has conference ids {known}."
    else:
        hint = f"User {user_ref!r} has no PAC accounts."
    raise NotFound("PAC account with conference id", str(conference_id), hint)
