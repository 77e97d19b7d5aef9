"""Fast reads for the request path: one dedicated connection and a cache.

`refresh()` asks the `Reader` whether any connection, in this process or another one, has
committed to the database, and drops everything cached after any commit by any writer: the
server, `zoompac admin`, another worker or another server. Every request calls it once before
its first read. On SQLite, `SqliteReader` asks `CommitWatch` (about 2 µs under `zoompac
serve`); on PostgreSQL, `PostgresReader` compares snapshots (one round trip).

A cache miss runs fixed SQL on the reader's connection, with the sqlite3 module or psycopg,
which keep each statement prepared. Building the same query through SQLAlchemy costs several
times more than SQLite spends running it.
"""

from __future__ import annotations

import itertools
import sqlite3
import sys
import threading
from abc import ABC, abstractmethod
from collections import namedtuple
from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy.engine import Engine

from zoompac.domain.models import Account, App, Grant, PacAccount, PacUser, User
from zoompac.storage.changes import CommitWatch
from zoompac.storage.health import DependencyHealth
from zoompac.storage.repository import (
    SqlStore,
    account_from_row,
    grant_from_row,
    pac_accounts_from_rows,
    user_from_row,
)

K = TypeVar("K")
V = TypeVar("V")
_MISSING: Any = object()

# Bounds on the caches, in entries. Past its bound a cache drops its oldest entries, which keeps
# memory flat for any data size. docs/benchmarks.md shows what full caches cost at 1,000,000
# users. Measured with tracemalloc, a `PacUser` found by id takes about 0.2 KB with its key, by
# e-mail about 0.25 KB, and an encoded PAC body about 0.35 KB (`Runtime.pac_bodies`).
MAX_ENTRIES = 20_000
# The PAC path looks each user up by id, by e-mail or both, so it needs about twice as many.
MAX_PAC_USERS = 50_000


class Query(NamedTuple):
    """Fixed SQL in SQLite's dialect, and the row type its result columns map to by position."""

    sql: str
    row: Any


def _query(sql: str, *columns: str) -> Query:
    # Rows get attribute access, as the row converters of `SqlStore` expect.
    return Query(sql, namedtuple("Row", columns))


_ACCOUNT = _query(
    "SELECT id, name, plan, audio_conferencing, pac_enabled FROM accounts WHERE id = ?",
    *("id", "name", "plan", "audio_conferencing", "pac_enabled"),
)
_USER_COLUMNS = (
    "id",
    "account_id",
    "email",
    "first_name",
    "last_name",
    "type",
    "status",
    "pac_enabled",
    "created_at",
)
_USER_BY_ID = _query(
    f"SELECT {', '.join(_USER_COLUMNS)} FROM users WHERE id = ?",  # noqa: S608 (fixed text)
    *_USER_COLUMNS,
)
_USER_ID_BY_EMAIL = _query("SELECT id FROM users WHERE email_key = ?", "id")
_PAC_USER_COLUMNS = ("id", "account_id", "pac_enabled")
# SQLite's planner prefers the unique index of the key, which contains no other column, so the
# covering indexes of migration 0003 are named. Without them each query fails ("no such index"),
# so the reader must open only migrated databases, as `build_runtime` ensures.
_PAC_USER_BY_ID = _query(
    f"SELECT {', '.join(_PAC_USER_COLUMNS)} FROM users"  # noqa: S608 (fixed text)
    " INDEXED BY ix_users_pac_by_id WHERE id = ?",
    *_PAC_USER_COLUMNS,
)
_PAC_USER_BY_EMAIL = _query(
    f"SELECT {', '.join(_PAC_USER_COLUMNS)} FROM users"  # noqa: S608 (fixed text)
    " INDEXED BY ix_users_pac_by_email WHERE email_key = ?",
    *_PAC_USER_COLUMNS,
)
_PAC_ACCOUNTS = _query(
    "SELECT p.id, p.conference_id, p.participant_password, p.listen_only_password,"
    " n.kind, n.number, n.country"
    " FROM pac_accounts AS p LEFT OUTER JOIN dial_in_numbers AS n ON n.pac_account_id = p.id"
    " WHERE p.user_id = ? ORDER BY p.id, n.id",
    *("id", "conference_id", "participant_password", "listen_only_password"),
    *("kind", "number", "country"),
)
_GRANT = _query(
    "SELECT t.app_id, a.client_id, t.account_id, t.user_id, t.scopes, t.expires_at"
    " FROM access_tokens AS t JOIN apps AS a ON a.id = t.app_id"
    # `NOT` and a bare column read the same 0 and 1 on SQLite as booleans on PostgreSQL.
    " WHERE t.id = ? AND NOT t.revoked AND a.active",
    *("app_id", "client_id", "account_id", "user_id", "scopes", "expires_at"),
)
# Every query above, for readers that rewrite them into their own dialect.
QUERIES = (
    _ACCOUNT,
    _USER_BY_ID,
    _USER_ID_BY_EMAIL,
    _PAC_USER_BY_ID,
    _PAC_USER_BY_EMAIL,
    _PAC_ACCOUNTS,
    _GRANT,
)


class Reader(ABC):
    """The request path's reads with fixed SQL, and the check for commits by anyone.

    Subclasses run the SQL on a connection of their own and report whether any connection has
    committed since the last check.
    """

    # Shared with the store, so that an outage is logged once (None: the store keeps its own).
    health: DependencyHealth | None = None

    @abstractmethod
    def changed(self) -> bool:
        """Return whether any connection has committed since the last call."""

    @abstractmethod
    def close(self) -> None:
        """Close the reader's connection."""

    def account(self, account_id: str) -> Account | None:
        row = self._one(_ACCOUNT, account_id)
        return account_from_row(row) if row is not None else None

    def user(self, user_id: str) -> User | None:
        row = self._one(_USER_BY_ID, user_id)
        # The id is `user_id`, byte for byte. Built from that string, the user shares it with
        # the cache keys instead of carrying a copy of its own.
        return user_from_row(row._replace(id=user_id)) if row is not None else None

    def user_id_by_email(self, email: str) -> str | None:
        row = self._one(_USER_ID_BY_EMAIL, email.lower())
        return str(row.id) if row is not None else None

    def pac_user(self, user_ref: str) -> PacUser | None:
        """Find a user by id, or by e-mail address in any letter case, as `SqlStore` does."""
        by_email = "@" in user_ref
        if by_email:
            row = self._one(_PAC_USER_BY_EMAIL, user_ref.lower())
        else:
            row = self._one(_PAC_USER_BY_ID, user_ref)
        if row is None:
            return None
        # Found by id, the user shares `user_ref` with the cache key, as in `user()`.
        user_id: str = row.id if by_email else user_ref
        return PacUser(user_id, sys.intern(row.account_id), bool(row.pac_enabled))

    def pac_accounts(self, user_id: str) -> list[PacAccount]:
        rows = self._all(_PAC_ACCOUNTS, user_id)
        return pac_accounts_from_rows([_PAC_ACCOUNTS.row._make(row) for row in rows])

    def grant(self, token_id: str) -> Grant | None:
        row = self._one(_GRANT, token_id)
        return grant_from_row(token_id, row) if row is not None else None

    def _one(self, query: Query, value: str) -> Any:
        rows = self._all(query, value)
        return query.row._make(rows[0]) if rows else None

    @abstractmethod
    def _all(self, query: Query, value: str) -> list[Any]:
        """Run `query` with its one parameter and return the rows as tuples."""


class SqliteReader(Reader):
    """The read connection to a SQLite file, which notices commits through `CommitWatch`."""

    def __init__(self, database_path: str, *, read_files: bool = False) -> None:
        """Open the read connection; `read_files` as for `CommitWatch`."""
        self._connection = sqlite3.connect(
            database_path, check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        self._commits = CommitWatch(self._connection, database_path, read_files=read_files)

    def changed(self) -> bool:
        with self._lock:
            return self._commits.committed()

    def close(self) -> None:
        self._connection.close()
        self._commits.close()

    def _one(self, query: Query, value: str) -> Any:
        # `fetchone` rather than the base class's list: the hot path runs this on every miss.
        with self._lock:
            row = self._connection.execute(query.sql, (value,)).fetchone()
        return query.row._make(row) if row is not None else None

    def _all(self, query: Query, value: str) -> list[Any]:
        with self._lock:
            return self._connection.execute(query.sql, (value,)).fetchall()


class CachedStore(SqlStore):
    """`SqlStore` whose request-path reads come from memory or from its `Reader`."""

    def __init__(self, engine: Engine, reader: Reader) -> None:
        super().__init__(engine, health=reader.health)
        self._reader = reader
        self._generation = 0
        self._accounts: dict[str, Account | None] = {}
        self._users: dict[str, User | None] = {}
        # E-mail address as requested -> user id. Users are cached once, by id, however many
        # ways they are addressed.
        self._user_ids: dict[str, str | None] = {}
        # `userId` as requested -> `PacUser`. It is kept apart from `_users` because the PAC
        # rules need no more, and a whole `User` with its strings takes several times the memory.
        self._pac_users: dict[str, PacUser | None] = {}
        self._grants: dict[str, Grant | None] = {}
        self._caches: tuple[dict[str, Any], ...] = (
            self._accounts,
            self._users,
            self._user_ids,
            self._pac_users,
            self._grants,
        )
        self._lock = threading.RLock()
        # Numbers of the commit checks: the last one begun, and the last one that succeeded.
        self._checks_begun = 0
        self._last_good_check = 0

    def refresh(self) -> None:
        # Checks run one at a time under the lock. A check that began after this call did, and
        # succeeded, saw every commit that this call must see. So requests queued behind one
        # check share the next one, and on PostgreSQL one round trip serves them all.
        arrived = self._checks_begun
        with self._lock:
            if self._last_good_check <= arrived:
                self._refresh()

    def request_scope(self) -> AbstractContextManager[None]:
        # Reads go through the dedicated connection, so no pooled one is needed.
        return nullcontext()

    def cache_generation(self) -> int | None:
        return self._generation

    def get_account(self, account_id: str) -> Account | None:
        return self._cached(self._accounts, account_id, self._reader.account)

    def get_user(self, user_id: str) -> User | None:
        return self._cached(self._users, user_id, self._reader.user)

    def find_user(self, user_ref: str) -> User | None:
        # The same rules as `SqlStore.find_user`: Zoom ids never contain "@".
        if "\x00" in user_ref:
            return None
        if "@" not in user_ref:
            return self.get_user(user_ref)
        user_id = self._cached(self._user_ids, user_ref, self._reader.user_id_by_email)
        return self.get_user(user_id) if user_id is not None else None

    def find_pac_user(self, user_ref: str) -> PacUser | None:
        if "\x00" in user_ref:
            return None
        return self._cached(self._pac_users, user_ref, self._load_pac_user, MAX_PAC_USERS)

    def _load_pac_user(self, user_ref: str) -> PacUser | None:
        """Read a `PacUser` for `find_pac_user`. It runs under `_lock`, inside `_cached`."""
        user = self._reader.pac_user(user_ref)
        if user is None or "@" not in user_ref:
            return user
        # Found by e-mail: share one record with lookups by id, stored under the id as well.
        # A user addressed both ways then takes one record, and requests touch less memory.
        known = self._pac_users.get(user.id)
        if known is not None:
            return known
        remember(self._pac_users, user.id, user, MAX_PAC_USERS)
        return user

    def list_pac_accounts(self, user_id: str) -> list[PacAccount]:
        # Not cached here: the HTTP layer keeps the encoded lists (`Runtime.pac_bodies`).
        return self._reader.pac_accounts(user_id)

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

    def _cached(
        self, cache: dict[K, V], key: K, load: Callable[[K], V], max_entries: int = MAX_ENTRIES
    ) -> V:
        value: V = cache.get(key, _MISSING)
        if value is not _MISSING:
            return value
        # One lock around the check, the load and the store: a value read before a commit can
        # then never land in a cache that `refresh()` emptied after that commit. A hit needs no
        # lock, as only values stored under it are ever found.
        with self._lock:
            value = cache.get(key, _MISSING)
            if value is _MISSING:
                value = load(key)
                # Misses are not kept: requests for made-up ids would push out real users.
                if value is not None:
                    remember(cache, key, value, max_entries)
            return value

    def _refresh(self) -> None:
        self._checks_begun += 1
        check = self._checks_begun
        if self._reader.changed():
            self._generation += 1
            for cache in self._caches:
                cache.clear()
        # Not reached when the check fails: a failed check must not stand in for another.
        self._last_good_check = check


class VersionedCache(Generic[K, V]):
    """Values by key, valid only for the version of the data they were built from.

    All entries share one version. A lookup names the current version and misses when the
    cache contains another. The first value stored for a new version empties the cache.
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max_entries = max_entries
        self._lock = threading.Lock()
        # The version and its entries in one attribute, read once by `get`: read apart, a
        # `put` for another version could replace the entries between the two reads.
        self._state: tuple[Hashable, dict[K, V]] = (None, {})

    def get(self, key: K, version: Hashable) -> V | None:
        state_version, entries = self._state
        if version != state_version:
            return None
        return entries.get(key)

    def put(self, key: K, version: Hashable, value: V) -> None:
        with self._lock:
            state_version, entries = self._state
            if version != state_version:
                entries = {}
                self._state = (version, entries)
            remember(entries, key, value, self._max_entries)


def remember(cache: dict[K, V], key: K, value: V, max_entries: int) -> None:
    """Store `value`; a full cache first drops its oldest 1/64.

    Dropping a batch at once keeps eviction cheap: taking the oldest key of a dict one at a time
    rescans the slots already emptied at its front. A small batch keeps the cache nearly full.
    Under uniform requests for 20,096 keys, a simulation of 20,000 entries hit 98.9 % dropping
    1/64 at a time and 96.2 % dropping an eighth, at the same cost per store.
    """
    if len(cache) >= max_entries:
        for oldest in list(itertools.islice(cache, max(1, max_entries // 64))):
            del cache[oldest]
    cache[key] = value
