"""The request path's reads on PostgreSQL: one dedicated connection that notices commits.

`changed()` reads PostgreSQL's current snapshot, `pg_current_snapshot()`, on every request. A
transaction gets a transaction id when it first writes, from a counter shared by every database
of the cluster (https://www.postgresql.org/docs/current/transaction-id.html). The snapshot
contains `xmin`, `xmax` (one past the highest id that has finished) and the ids below `xmax`
still in progress (https://www.postgresql.org/docs/current/functions-info.html, "Snapshot
Information Functions"). While a transaction that wrote runs, its id is either in that list or
at least `xmax`. Once it ends, its id is below `xmax` and out of the list. So a commit always
changes the next snapshot, and two equal snapshots in a row mean that nothing was committed
between them, by any process or machine. A rollback, or a write to another database of the
cluster, also changes it, and the cache is then dropped although nothing changed. The check
is one round trip, where an uncached request took three to five queries and a pooled
connection's reset.

The queries are `zoompac.storage.cache`'s, rewritten for psycopg's placeholders and run as
prepared statements in autocommit mode, on a connection that this reader checks out of
SQLAlchemy's pool and keeps. A failure fails the request with a 503 through the store's
`DependencyHealth`. When the connection died, the next read checks out another, whose first
check counts as a change, and the pool replaces its other connections from before at checkout,
as they most likely died too. A connection that a request through the pool finds dead makes the
reader replace its own in turn. A refused connection or a statement past `statement_timeout`
loses no connection. A statement that a schema change has made stale runs again on a new
connection.
"""

from __future__ import annotations

import re
import threading
from contextlib import suppress
from typing import Any

import psycopg
from sqlalchemy.engine import Engine
from sqlalchemy.pool import PoolProxiedConnection

from zoompac.storage.cache import QUERIES, Query, Reader
from zoompac.storage.health import (
    CONNECTION_ERRORS,
    DependencyHealth,
    connection_lost,
    database_health,
)

_SNAPSHOT = "SELECT pg_current_snapshot()::text"
# Failures of the connection or of the server, as opposed to a bad query. A statement that
# runs past `statement_timeout` raises `QueryCanceled`, an `OperationalError`.
_FAILURES = (psycopg.OperationalError, psycopg.InterfaceError, *CONNECTION_ERRORS)
# Errors of a prepared statement that a new connection prepares afresh: a schema change that
# alters a result type, or a statement dropped by the server or a proxy.
_STALE_STATEMENTS = (psycopg.errors.FeatureNotSupported, psycopg.errors.InvalidSqlStatementName)


def postgres_sql(sqlite_sql: str) -> str:
    """Rewrite one of the fixed queries from SQLite's dialect into PostgreSQL's."""
    # `INDEXED BY` names an index that only SQLite has. PostgreSQL's planner picks its own.
    return re.sub(r" INDEXED BY \w+", "", sqlite_sql).replace("?", "%s")


class PostgresReader(Reader):
    """A connection kept out of the pool of `engine`, for the cached reads and the commit check."""

    health: DependencyHealth

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.health = database_health(engine)
        self._sql = {query: postgres_sql(query.sql) for query in QUERIES}
        self._lock = threading.Lock()
        self._connection: psycopg.Connection[Any] | None = None
        self._pooled: PoolProxiedConnection | None = None
        # `DependencyHealth.losses` when the connection was opened.
        self._losses_seen = 0
        # None until a check on the current connection: a new connection may reach a server
        # restored from a backup, or a replica promoted in a failover, whose snapshot can equal
        # the last one seen although its data differs. Its first check then counts as a change.
        self._snapshot: str | None = None

    def changed(self) -> bool:
        with self._lock:
            snapshot: str = self._run(_SNAPSHOT, ())[0][0]
            changed = snapshot != self._snapshot
            self._snapshot = snapshot
        return changed

    def close(self) -> None:
        with self._lock:
            self._discard()

    def _all(self, query: Query, value: str) -> list[Any]:
        with self._lock:
            return self._run(self._sql[query], (value,))

    def _run(self, sql: str, parameters: tuple[str, ...]) -> list[Any]:
        """Run `sql` on the read connection, opening one if needed. Call it under `_lock`."""
        try:
            try:
                rows = self._connect().execute(sql, parameters, prepare=True).fetchall()
            except _STALE_STATEMENTS:
                self._discard()
                rows = self._connect().execute(sql, parameters, prepare=True).fetchall()
        except _FAILURES as exc:
            # A connection that died, as opposed to one that was refused or a statement that
            # timed out. The pool then replaces its older connections at checkout
            # (`GuardedEngine`), because they most likely died with this one.
            lost = connection_lost(exc) or (
                self._connection is not None and self._connection.broken
            )
            if lost:
                self._discard()
            raise self.health.failed(exc, lost=lost) from exc
        self.health.succeeded()
        return rows

    def _connect(self) -> psycopg.Connection[Any]:
        if self._connection is not None and self.health.losses != self._losses_seen:
            # A request through the pool found its connection dead since this one opened, so
            # this one may be dead too. Replacing it spares the next request a 503.
            self._discard()
        if self._connection is None:
            # Checked out of the pool and kept: it counts against the pool's size rather than
            # taking a connection slot of its own, and the pool replaces a connection that died
            # in an earlier loss at checkout (`GuardedEngine`).
            losses = self.health.losses
            pooled = self._engine.raw_connection()
            connection = pooled.driver_connection
            assert isinstance(connection, psycopg.Connection)
            connection.autocommit = True
            self._pooled, self._connection = pooled, connection
            self._losses_seen = losses
            self._snapshot = None
        return self._connection

    def _discard(self) -> None:
        if self._pooled is not None:
            pooled, self._pooled, self._connection = self._pooled, None, None
            # Closed rather than handed back, since it is in autocommit mode. The pool opens a
            # new connection in its place when next needed.
            with suppress(*_FAILURES):
                pooled.invalidate()
                pooled.close()
