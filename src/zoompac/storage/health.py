"""Translation of connection failures into `ServiceUnavailable`, logged once per outage."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from zoompac.domain.errors import ServiceUnavailable

logger = logging.getLogger("zoompac.storage")

# Errors that mean "cannot talk to the database right now", as opposed to a bad query.
CONNECTION_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


class DependencyHealth:
    """Tracks whether one dependency is reachable and logs each change of state once.

    `target` names the dependency without credentials, for example `postgresql://db:5432/zoompac`.
    `losses` counts the failures that found an open connection dead, as opposed to a refused
    connection or a statement timeout: a holder of a connection opened before the latest loss
    should replace it, as it most likely died too.
    """

    def __init__(self, name: str, target: str) -> None:
        self.name = name
        self.target = target
        self.losses = 0
        self._down = False
        self._lock = threading.Lock()

    def failed(self, error: BaseException, *, lost: bool = True) -> ServiceUnavailable:
        """Record a failure and return the error to raise.

        Pass `lost=False` when the connection survived the failure, as after a timeout.
        """
        with self._lock:
            if lost:
                self.losses += 1
            first = not self._down
            self._down = True
        if first:
            logger.error(
                "%s at %s is unreachable, so requests get 503 until it is back: %s",
                self.name,
                self.target,
                type(error).__name__,
            )
        return ServiceUnavailable()

    def succeeded(self) -> None:
        if not self._down:
            return
        with self._lock:
            recovered, self._down = self._down, False
        if recovered:
            logger.warning("%s at %s is reachable again", self.name, self.target)


def database_health(engine: Engine) -> DependencyHealth:
    return DependencyHealth("The database", engine.url.render_as_string(hide_password=True))


def connection_lost(error: BaseException) -> bool:
    """Return whether SQLAlchemy found an open connection dead when it raised `error`.

    A connection that could not be opened (refused, or over a connection limit), a free one
    that the pool could not provide in time, or a statement timeout loses none.
    """
    return bool(getattr(error, "connection_invalidated", False))


class GuardedEngine:
    """Connections of an engine whose connection failures become `ServiceUnavailable`.

    After a connection loss reported to `health` by anyone, a pooled connection opened before it
    is replaced at its next checkout, as it most likely died too. A connection that the checkout
    itself opens is accepted, even if a loss came in while it opened.
    """

    def __init__(self, engine: Engine, health: DependencyHealth | None = None) -> None:
        self.engine = engine
        self.health = health or database_health(engine)
        self._request_connection: ContextVar[Connection | None] = ContextVar(
            f"request_connection_{id(self)}", default=None
        )
        # Keyed by this object: tests build several stores on one engine.
        self._losses_key = f"losses_seen_{id(self)}"
        self._fresh_key = f"fresh_{id(self)}"
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", self._on_connect)
            event.listen(engine, "checkout", self._on_checkout)

    def _on_connect(self, _dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[self._losses_key] = self.health.losses
        record.info[self._fresh_key] = True

    def _on_checkout(
        self, _dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        # A connection opened by this very checkout is alive, whatever was lost since. Refusing
        # it too would make SQLAlchemy, which reconnects once, give up with an error.
        if record.info.pop(self._fresh_key, False):
            return
        if record.info.get(self._losses_key, 0) != self.health.losses:
            # The pool closes this connection and opens a new one in its place.
            raise sa_exc.DisconnectionError()

    @contextmanager
    def request_scope(self) -> Iterator[None]:
        """Serve every read of one request from one pooled connection.

        On PostgreSQL each checkout costs a round trip or more, several times what a lookup by
        key costs, so a request checks out once instead of once per read.
        """
        if self._request_connection.get() is not None:
            yield
            return
        with self.connect() as connection:
            marker = self._request_connection.set(connection)
            try:
                yield
            finally:
                self._request_connection.reset(marker)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        shared = self._request_connection.get()
        if shared is not None:
            yield shared
            return
        try:
            with self.engine.connect() as connection:
                yield connection
        except CONNECTION_ERRORS as exc:
            raise self.health.failed(exc, lost=connection_lost(exc)) from exc
        self.health.succeeded()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except CONNECTION_ERRORS as exc:
            raise self.health.failed(exc, lost=connection_lost(exc)) from exc
        self.health.succeeded()
