"""A read-through cache in front of `SqlStore` for SQLite, kept exact by SQLite's data_version.

`PRAGMA data_version` on a connection that never writes changes whenever any other connection,
in this process or another one, commits to the database file. `refresh()` checks it (about
2 µs) and drops everything cached after any commit, whoever wrote it: the server, `zoompac
admin` or another worker. Reads return data as of the last `refresh()`, so every request calls
it once before its first read and then sees one consistent state.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from zoompac.domain.models import Account, App, Grant, PacAccount, User
from zoompac.storage.repository import SqlStore

K = TypeVar("K")
V = TypeVar("V")

# Bound on each cache: past it the cache is emptied, which keeps memory flat for any data size.
MAX_ENTRIES = 20_000


class SqliteChangeProbe:
    def __init__(self, database_path: str) -> None:
        self._connection = sqlite3.connect(
            database_path, check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        self._version = self._read()

    def changed(self) -> bool:
        """Return whether any connection has committed since the last call."""
        with self._lock:
            version = self._read()
            if version == self._version:
                return False
            self._version = version
            return True

    def close(self) -> None:
        self._connection.close()

    def _read(self) -> int:
        row = self._connection.execute("PRAGMA data_version").fetchone()
        return int(row[0])


class CachedStore(SqlStore):
    """`SqlStore` whose reads of the request path are served from memory while nothing changes."""

    def __init__(self, engine: Engine, probe: SqliteChangeProbe) -> None:
        super().__init__(engine)
        self._probe = probe
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

    def cache_generation(self) -> int | None:
        return self._generation

    def get_account(self, account_id: str) -> Account | None:
        return self._cached(self._accounts, account_id, super().get_account)

    def get_user(self, user_id: str) -> User | None:
        return self._cached(self._users_by_id, user_id, super().get_user)

    def find_user(self, user_ref: str) -> User | None:
        return self._cached(self._users_by_ref, user_ref, super().find_user)

    def list_pac_accounts(self, user_id: str) -> list[PacAccount]:
        cached: list[PacAccount] = self._cached(
            self._pac_accounts, user_id, super().list_pac_accounts
        )
        return list(cached)

    def get_grant(self, token_id: str) -> Grant | None:
        return self._cached(self._grants, token_id, super().get_grant)

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
        if self._probe.changed():
            self._generation += 1
            for cache in self._caches:
                cache.clear()


def _bounded(cache: dict[K, V]) -> dict[K, V]:
    if len(cache) >= MAX_ENTRIES:
        cache.clear()
    return cache
