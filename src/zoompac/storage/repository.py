"""`SqlStore`: the domain's `Store` protocol on SQLAlchemy Core."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, and_, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement

from zoompac.domain.errors import TokenIdTaken
from zoompac.domain.models import (
    Account,
    App,
    AppKind,
    DialInKind,
    DialInNumber,
    Grant,
    PacAccount,
    PacUser,
    Plan,
    User,
    UserStatus,
)
from zoompac.storage.health import DependencyHealth, GuardedEngine
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


class SqlStore:
    def __init__(self, engine: Engine, health: DependencyHealth | None = None) -> None:
        self.engine = engine
        self._database = GuardedEngine(engine, health)
        self._binary_collation = "C" if engine.dialect.name == "postgresql" else "BINARY"

    def refresh(self) -> None:
        """Do nothing: every read of this store goes to the database."""

    def request_scope(self) -> AbstractContextManager[None]:
        """Share one connection between the reads of one request."""
        return self._database.request_scope()

    def cache_generation(self) -> int | None:
        """Return None: this store caches nothing, so callers must not cache what it returns."""
        return None

    def get_account(self, account_id: str) -> Account | None:
        with self._database.connect() as connection:
            row = connection.execute(select(accounts).where(accounts.c.id == account_id)).first()
        return account_from_row(row) if row is not None else None

    def get_app_by_client_id(self, client_id: str) -> App | None:
        if "\x00" in client_id:
            return None  # No stored client id contains NUL, and PostgreSQL text cannot.
        with self._database.connect() as connection:
            row = connection.execute(select(apps).where(apps.c.client_id == client_id)).first()
        return app_from_row(row) if row is not None else None

    def get_user(self, user_id: str) -> User | None:
        with self._database.connect() as connection:
            row = connection.execute(select(users).where(users.c.id == user_id)).first()
        return user_from_row(row) if row is not None else None

    def find_user(self, user_ref: str) -> User | None:
        if "\x00" in user_ref:
            return None  # No stored id or e-mail contains NUL, and PostgreSQL text cannot.
        with self._database.connect() as connection:
            row = connection.execute(select(users).where(_user_ref_is(user_ref))).first()
        return user_from_row(row) if row is not None else None

    def find_pac_user(self, user_ref: str) -> PacUser | None:
        if "\x00" in user_ref:
            return None
        query = select(users.c.id, users.c.account_id, users.c.pac_enabled).where(
            _user_ref_is(user_ref)
        )
        with self._database.connect() as connection:
            row = connection.execute(query).first()
        return PacUser(row.id, row.account_id, bool(row.pac_enabled)) if row is not None else None

    def list_pac_accounts(self, user_id: str) -> list[PacAccount]:
        query = (
            select(
                pac_accounts.c.id,
                pac_accounts.c.conference_id,
                pac_accounts.c.participant_password,
                pac_accounts.c.listen_only_password,
                dial_in_numbers.c.kind,
                dial_in_numbers.c.number,
                dial_in_numbers.c.country,
            )
            .select_from(
                pac_accounts.outerjoin(
                    dial_in_numbers, dial_in_numbers.c.pac_account_id == pac_accounts.c.id
                )
            )
            .where(pac_accounts.c.user_id == user_id)
            .order_by(pac_accounts.c.id, dial_in_numbers.c.id)
        )
        with self._database.connect() as connection:
            rows = connection.execute(query).all()
        return pac_accounts_from_rows(rows)

    def insert_token(
        self,
        token_id: str,
        app: App,
        user_id: str | None,
        issued_at: datetime,
        expires_at: datetime,
        revoke_older: bool,
    ) -> None:
        try:
            with self._database.begin() as connection:
                if revoke_older:
                    # Lock the app's row first, so two concurrent mints cannot both miss each
                    # other's token; SQLite serialises writers without it.
                    connection.execute(
                        select(apps.c.id).where(apps.c.id == app.id).with_for_update()
                    )
                    connection.execute(
                        update(access_tokens)
                        .where(access_tokens.c.app_id == app.id, access_tokens.c.revoked.is_(False))
                        .values(revoked=True)
                    )
                connection.execute(
                    insert(access_tokens).values(
                        id=token_id,
                        app_id=app.id,
                        account_id=app.account_id,
                        user_id=user_id,
                        scopes=" ".join(app.scopes),
                        issued_at=int(issued_at.timestamp()),
                        expires_at=int(expires_at.timestamp()),
                        revoked=False,
                    )
                )
        except IntegrityError as exc:
            raise TokenIdTaken(token_id) from exc

    def get_grant(self, token_id: str) -> Grant | None:
        query = (
            select(
                access_tokens.c.app_id,
                apps.c.client_id,
                access_tokens.c.account_id,
                access_tokens.c.user_id,
                access_tokens.c.scopes,
                access_tokens.c.expires_at,
            )
            .select_from(access_tokens.join(apps, apps.c.id == access_tokens.c.app_id))
            .where(
                and_(
                    access_tokens.c.id == token_id,
                    access_tokens.c.revoked.is_(False),
                    apps.c.active.is_(True),
                )
            )
        )
        with self._database.connect() as connection:
            row = connection.execute(query).first()
        return grant_from_row(token_id, row) if row is not None else None

    def list_users(
        self, account_id: str, status: UserStatus, after_user_id: str, limit: int
    ) -> list[User]:
        # Byte order on every backend, so pages cut by id come out the same on SQLite and on
        # PostgreSQL, whose default collation sorts by locale.
        user_id = users.c.id.collate(self._binary_collation)
        query = (
            select(users)
            .where(
                users.c.account_id == account_id,
                users.c.status == status.value,
                user_id > after_user_id,
            )
            .order_by(user_id)
            .limit(limit)
        )
        with self._database.connect() as connection:
            return [user_from_row(row) for row in connection.execute(query)]

    def count_users(self, account_id: str, status: UserStatus) -> int:
        query = select(func.count()).where(
            users.c.account_id == account_id, users.c.status == status.value
        )
        with self._database.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def insert_authorization_code(
        self, code_hash: str, app_id: int, user_id: str, redirect_uri: str, expires_at: datetime
    ) -> None:
        with self._database.begin() as connection:
            connection.execute(
                insert(authorization_codes).values(
                    code_hash=code_hash,
                    app_id=app_id,
                    user_id=user_id,
                    redirect_uri=redirect_uri,
                    expires_at=int(expires_at.timestamp()),
                    used=False,
                )
            )

    def consume_authorization_code(
        self, code_hash: str, app_id: int, now: datetime
    ) -> tuple[str, str] | None:
        table = authorization_codes
        live = and_(
            table.c.code_hash == code_hash,
            table.c.app_id == app_id,
            table.c.used.is_(False),
            table.c.expires_at > int(now.timestamp()),
        )
        with self._database.begin() as connection:
            claimed = connection.execute(update(table).where(live).values(used=True)).rowcount
            if claimed != 1:
                return None
            row = connection.execute(
                select(table.c.user_id, table.c.redirect_uri).where(table.c.code_hash == code_hash)
            ).one()
        return row.user_id, row.redirect_uri

    def insert_refresh_token(
        self, token_hash: str, app_id: int, user_id: str, expires_at: datetime
    ) -> None:
        with self._database.begin() as connection:
            connection.execute(
                insert(refresh_tokens).values(
                    token_hash=token_hash,
                    app_id=app_id,
                    user_id=user_id,
                    expires_at=int(expires_at.timestamp()),
                    used=False,
                )
            )

    def consume_refresh_token(self, token_hash: str, app_id: int, now: datetime) -> str | None:
        table = refresh_tokens
        live = and_(
            table.c.token_hash == token_hash,
            table.c.app_id == app_id,
            table.c.used.is_(False),
            table.c.expires_at > int(now.timestamp()),
        )
        with self._database.begin() as connection:
            claimed = connection.execute(update(table).where(live).values(used=True)).rowcount
            if claimed != 1:
                return None
            user_id: str = connection.execute(
                select(table.c.user_id).where(table.c.token_hash == token_hash)
            ).scalar_one()
        return user_id


def grant_from_row(token_id: str, row: Any) -> Grant:
    return Grant(
        token_id=token_id,
        app_id=row.app_id,
        client_id=row.client_id,
        account_id=row.account_id,
        user_id=row.user_id,
        scopes=frozenset(row.scopes.split()),
        expires_at=datetime.fromtimestamp(row.expires_at, UTC),
    )


def account_from_row(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        name=row.name,
        plan=Plan(row.plan),
        audio_conferencing=bool(row.audio_conferencing),
        pac_enabled=bool(row.pac_enabled),
    )


def app_from_row(row: Row[Any]) -> App:
    return App(
        id=row.id,
        client_id=row.client_id,
        client_secret_hash=row.client_secret_hash,
        kind=AppKind(row.kind),
        account_id=row.account_id,
        scopes=tuple(row.scopes.split()),
        redirect_uri=row.redirect_uri,
        active=bool(row.active),
    )


def _user_ref_is(user_ref: str) -> ColumnElement[bool]:
    # Zoom ids never contain "@", so the reference's shape picks the index to use.
    if "@" in user_ref:
        return users.c.email_key == user_ref.lower()
    return users.c.id == user_ref


def user_from_row(row: Row[Any]) -> User:
    return User(
        id=row.id,
        # Few accounts, many users: one shared string each keeps cached users small.
        account_id=sys.intern(row.account_id),
        email=row.email,
        first_name=row.first_name,
        last_name=row.last_name,
        type=row.type,
        status=UserStatus(row.status),
        pac_enabled=bool(row.pac_enabled),
        created_at=datetime.fromtimestamp(row.created_at, UTC),
    )


def pac_accounts_from_rows(rows: Sequence[Any]) -> list[PacAccount]:
    """Fold the PAC-account-to-number join back into one `PacAccount` per id, in id order."""
    grouped: dict[int, tuple[Any, list[DialInNumber]]] = {}
    for row in rows:
        _, numbers = grouped.setdefault(row.id, (row, []))
        if row.kind is not None:
            numbers.append(DialInNumber(DialInKind(row.kind), row.number, row.country))
    return [
        PacAccount(
            conference_id=row.conference_id,
            participant_password=row.participant_password,
            listen_only_password=row.listen_only_password,
            dial_in_numbers=tuple(numbers),
        )
        for row, numbers in grouped.values()
    ]
