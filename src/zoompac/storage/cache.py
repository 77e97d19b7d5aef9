"""Fast reads for the request path on SQLite: one dedicated connection and a cache.

`PRAGMA data_version` on a connection that never writes changes whenever any other connection,
in this process or another one, commits to the database file. `refresh()` checks it (about
2 µs) and drops everything cached after any commit by any writer: the server, `zoompac admin`
or another worker. Reads return data as of the last `refresh()`, so every request calls
it once before its first read and then sees one consistent state.

A cache miss runs fixed SQL on that same connection with the sqlite3 module, which keeps each
statement prepared. Building the same query through SQLAlchemy costs several times more than
SQLite spends running it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import namedtuple
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from zoompac.domain.models import Account, App, Grant, PacAccount, User
from zoompac.storage.repository import (
    SqlStore,
    account_from_row,
    grant_from_row,
    pac_accounts_from_rows,
    user_from_row,
)

K = TypeVar("K")
V = TypeVar("V")

# Bound on each cache: past it the cache is emptied, which keeps memory flat for any data size.
MAX_ENTRIES = 10_000

_ACCOUNT = "SELECT id, name, plan, audio_conferencing, pac_enabled FROM accounts WHERE id = ?"
_USER_COLUMNS = (
    "id, account_id, email, first_name, last_name, type, status, pac_enabled, created_at"
)
_USER_BY_ID = f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?"  # noqa: S608 (fixed text)
_USER_BY_EMAIL = f"SELECT {_USER_COLUMNS} FROM users WHERE email_key = ?"  # noqa: S608
_PAC_ACCOUNTS = (
    "SELECT p.id, p.conference_id, p.participant_password, p.listen_only_password,"
    " n.kind, n.number, n.country"
    " FROM pac_accounts AS p LEFT OUTER JOIN dial_in_numbers AS n ON n.pac_account_id = p.id"
    " WHERE p.user_id = ? ORDER BY p.id, n.id"
)
_GRANT = (
    "SELECT t.app_id, a.client_id, t.account_id, t.user_id, t.scopes, t.expires_at"
    " FROM access_tokens AS t JOIN apps AS a ON a.id = t.app_id"
    " WHERE t.id = ? AND t.revoked = 0 AND a.active = 1"
)


class SqliteReader:
    """The read connection: change detection and the request path's queries."""

    def __init__(self, database_path: str) -> None:
        self._connection = sqlite3.connect(
            database_path, check_same_thread=False, isolation_level=None
        )
        self._connection.row_factory = _named_row
        self._lock = threading.Lock()
        self._version = self._data_version()

    def changed(self) -> bool:
        """Return whether any connection has committed since the last call."""
        with self._lock:
            version = self._data_version()
            if version == self._version:
                return False
            self._version = version
            return True

    def account(self, account_id: str) -> Account | None:
        row = self._one(_ACCOUNT, account_id)
        return account_from_row(row) if row is not None else None

    def user(self, user_id: str) -> User | None:
        row = self._one(_USER_BY_ID, user_id)
        return user_from_row(row) if row is not None else None

    def user_by_ref(self, user_ref: str) -> User | None:
        # The same rule as `SqlStore.find_user`: Zoom ids never contain "@".
        if "\x00" in user_ref:
            return None
        if "@" in user_ref:
            row = self._one(_USER_BY_EMAIL, user_ref.lower())
        else:
            row = self._one(_USER_BY_ID, user_ref)
        return user_from_row(row) if row is not None else None

    def pac_accounts(self, user_id: str) -> list[PacAccount]:
        with self._lock:
            rows = self._connection.execute(_PAC_ACCOUNTS, (user_id,)).fetchall()
        return pac_accounts_from_rows(rows)

    def grant(self, token_id: str) -> Grant | None:
        row = self._one(_GRANT, token_id)
        return grant_from_row(token_id, row) if row is not None else None

    def close(self) -> None:
        self._connection.close()

    def _one(self, sql: str, value: str) -> Any:
        with self._lock:
            return self._connection.execute(sql, (value,)).fetchone()

    def _data_version(self) -> int:
        row = self._connection.execute("PRAGMA data_version").fetchone()
        return int(row[0])


class CachedStore(SqlStore):
    """`SqlStore` whose request-path reads come from memory or from `SqliteReader`."""

    def __init__(self, engine: Engine, reader: SqliteReader) -> None:
        super().__init__(engine)
        self._reader = reader
        self._generation = 0
        self._accounts: dict[str, Account | None] = {}
        self._users_by_ref: dict[str, User | None] = {}
        self._users_by_id: dict[str, User | None] = {}
        self._pac_accounts: dict[str, list[PacAccount]] = {}
        self._grants: dict[str, Grant | None] = {}
        self._caches: tuple[dict[str, Any], ...] = (
            self._accounts,
            self._users_by_ref,
            self._users_by_id,
            self._pac_accounts,
            self._grants,
        )
        self._lock = threading.RLock()

    def refresh(self) -> None:
        with self._lock:
            self._refresh()

    def request_scope(self) -> AbstractContextManager[None]:
        # Reads go through the dedicated connection, so no pooled one is needed.
        return nullcontext()

    def cache_generation(self) -> int | None:
        return self._generation

    def get_account(self, account_id: str) -> Account | None:
        return self._cached(self._accounts, account_id, self._reader.account)

    def get_user(self, user_id: str) -> User | None:
        return self._cached(self._users_by_id, user_id, self._reader.user)

    def find_user(self, user_ref: str) -> User | None:
        return self._cached(self._users_by_ref, user_ref, self._reader.user_by_ref)

    def list_pac_accounts(self, user_id: str) -> list[PacAccount]:
        cached: list[PacAccount] = self._cached(
            self._pac_accounts, user_id, self._reader.pac_accounts
        )
        return list(cached)

    def get_grant(self, token_id: str) -> Grant | None:
        return self._cached(self._grants, token_id, self._reader.grant)

    def insert_token(
        self,
        token_id: str,
        app: App,
        user_id: str | None,
        issued_at: datetime,
        expires_at: datetime,
        revoke_older: bool,
    ) -> None:
        super().insert_token(token_id, app, user_id, issued_at, expires_at, revoke_older)
        with self._lock:
            self._refresh()

    def _cached(self, cache: dict[K, V], key: K, load: Callable[[K], V]) -> V:
        # One lock around the check, the load and the store: a value read before a commit can
        # then never land in a cache that `refresh()` emptied after that commit.
        with self._lock:
            if key in cache:
                return cache[key]
            value = load(key)
            _bounded(cache)[key] = value
            return value

    def _refresh(self) -> None:
        if self._reader.changed():
            self._generation += 1
            for cache in self._caches:
                cache.clear()


def _bounded(cache: dict[K, V]) -> dict[K, V]:
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    return cache


_row_types: dict[tuple[str, ...], Any] = {}


def _named_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Any:
    """Return rows with attribute access, as the row converters of `SqlStore` expect."""
    names = tuple(column[0] for column in cursor.description)
    row_type = _row_types.get(names)
    if row_type is None:
        row_type = _row_types.setdefault(names, namedtuple("Row", names))
    return row_type(*values)
