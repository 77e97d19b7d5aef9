"""Translation of connection failures into `ServiceUnavailable`, logged once per outage."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine

from zoompac.domain.errors import ServiceUnavailable

logger = logging.getLogger("zoompac.storage")

# Errors that mean "cannot talk to the database right now", as opposed to a bad query.
CONNECTION_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


class DependencyHealth:
    """Tracks whether one dependency is reachable and logs each change of state once.

    `target` names the dependency without credentials, for example `postgresql://db:5432/zoompac`.
    `failures` counts the failures reported, so that a user of its own connection can detect
    a failure seen elsewhere since the connection opened, and replace the connection.
    """

    def __init__(self, name: str, target: str) -> None:
        self.name = name
        self.target = target
        self.failures = 0
        self._down = False
        self._lock = threading.Lock()

    def failed(self, error: BaseException) -> ServiceUnavailable:
        with self._lock:
            self.failures += 1
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


class GuardedEngine:
    """Connections of an engine whose connection failures become `ServiceUnavailable`."""

    def __init__(self, engine: Engine, health: DependencyHealth | None = None) -> None:
        self.engine = engine
        self.health = health or database_health(engine)
        self._request_connection: ContextVar[Connection | None] = ContextVar(
            f"request_connection_{id(self)}", default=None
        )

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
            raise self.health.failed(exc) from exc
        self.health.succeeded()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except CONNECTION_ERRORS as exc:
            raise self.health.failed(exc) from exc
        self.health.succeeded()
