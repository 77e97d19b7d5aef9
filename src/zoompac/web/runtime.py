"""Everything a running server shares between requests, and the run-time changes to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from sqlalchemy.engine import Engine

from zoompac.domain.clock import Clock
from zoompac.domain.errors import ServiceUnavailable
from zoompac.domain.faults import FaultRegistry
from zoompac.domain.journal import Journal
from zoompac.domain.models import ConferenceIdFormat
from zoompac.domain.ratelimits import (
    InMemoryRateCounter,
    RateLimiter,
    RateLimitPolicy,
    parse_overrides,
)
from zoompac.domain.secrets import seed_random
from zoompac.domain.tokens import TokenPolicy, TokenService
from zoompac.domain.users import PageTokenSigner
from zoompac.settings import Settings
from zoompac.storage.cache import CachedStore, SqliteReader, VersionedCache
from zoompac.storage.database import migrate, open_engine, signing_key
from zoompac.storage.fixtures import (
    FixtureDocument,
    is_resolved,
    load_fixture,
    resolved,
    without_accounts,
)
from zoompac.storage.repository import SqlStore
from zoompac.storage.state import replace_state

if TYPE_CHECKING:
    from zoompac.storage.redis_counter import RedisRateCounter

T = TypeVar("T")

# How long a request may wait on PostgreSQL or Redis in total before it gets a 503.
# It covers a dependency that accepts connections but never responds, which the drivers' own
# timeouts miss on a connection that is already open.
REQUEST_DEADLINE_SECONDS = 8

# The settings that the control plane may change while the server runs.
RUNTIME_SETTINGS = (
    "rate_limits",
    "rate_limit",
    "token_lifetime",
    "revoke_older_tokens",
    "conference_id_format",
    "auto_approve_user",
)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    store: SqlStore
    clock: Clock
    tokens: TokenService
    rate_counter: InMemoryRateCounter | RedisRateCounter
    rate_limiter: RateLimiter
    page_tokens: PageTokenSigner
    faults: FaultRegistry = field(default_factory=FaultRegistry)
    journal: Journal = field(default_factory=Journal)
    # Encoded PAC account lists by user id (see `routes.pac`).
    pac_bodies: VersionedCache[str, bytes] = field(default_factory=VersionedCache)
    # Fixtures loaded at start or through the control plane: what "reset to fixture" restores.
    baseline: list[FixtureDocument] = field(default_factory=list)
    startup_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def conference_id_format(self) -> ConferenceIdFormat:
        return self.settings.conference_id_format

    @property
    def blocking_io(self) -> bool:
        """Whether requests wait on the network: PostgreSQL or Redis rather than a local file."""
        return self.engine.dialect.name != "sqlite" or self.settings.redis is not None

    async def run_blocking(self, function: Callable[..., T], *args: Any) -> T:
        """Call `function`; in a worker thread when it may wait on the network.

        SQLite calls take microseconds and are cheaper inline than a thread hop. A PostgreSQL or
        Redis call may wait for seconds during an outage, and must not stall the event loop.
        """
        if not self.blocking_io:
            return function(*args)
        with anyio.move_on_after(REQUEST_DEADLINE_SECONDS):
            # The abandoned thread finishes or fails on its own once the dependency responds.
            return await anyio.to_thread.run_sync(function, *args, abandon_on_cancel=True)
        # TODO: log a dependency that hangs. Only refused or closed connections are logged.
        raise ServiceUnavailable()

    def runtime_settings(self) -> dict[str, Any]:
        return self.settings.model_dump(mode="json", include=set(RUNTIME_SETTINGS))

    def update_settings(self, changes: dict[str, Any]) -> None:
        """Validate and apply run-time setting changes; invalid values change nothing."""
        unknown = sorted(set(changes) - set(RUNTIME_SETTINGS))
        if unknown:
            raise ValueError(
                f"Cannot change {', '.join(unknown)} at run time. "
                f"Changeable settings: {', '.join(RUNTIME_SETTINGS)}."
            )
        updated = Settings.model_validate({**self.settings.model_dump(), **changes})
        rate_policy = RateLimitPolicy(updated.rate_limits, parse_overrides(updated.rate_limit))
        self.settings = updated
        self.rate_limiter.policy = rate_policy
        self.tokens.policy = _token_policy(updated)

    def load(self, document: FixtureDocument, *, replace: bool = False) -> None:
        """Load a fixture and remember it as part of the state that a reset restores.

        With `replace`, the accounts it defines also replace those of earlier fixtures in what
        a reset restores.
        """
        loaded = resolved(document)
        load_fixture(self.engine, loaded, replace=replace)
        if replace:
            replaced = {account.id for account in loaded.accounts}
            self.baseline = [without_accounts(earlier, replaced) for earlier in self.baseline]
        self.baseline.append(loaded)

    def reset(self, *, to_fixture: bool) -> None:
        """Restore the stored data, counters, journal, faults, clock and settings.

        With `to_fixture`, the data becomes the fixtures loaded so far; otherwise it is emptied
        and those fixtures are forgotten.
        """
        if not to_fixture:
            self.baseline.clear()
        self.baseline = [
            document if is_resolved(document) else resolved(document) for document in self.baseline
        ]
        replace_state(self.engine, self.baseline)
        self.rate_counter.clear()
        self.journal.clear()
        self.faults.clear()
        self.clock.reset()
        self.update_settings(self.startup_settings)
        seed_random(self.settings.seed)


def _token_policy(settings: Settings) -> TokenPolicy:
    return TokenPolicy(
        lifetime_seconds=settings.token_lifetime,
        revoke_older_tokens=settings.revoke_older_tokens,
    )


def _store_for(engine: Engine, own_process: bool) -> SqlStore:
    """Cache reads wherever a commit by anyone can be noticed: SQLite files and PostgreSQL."""
    database = engine.url.database
    if engine.dialect.name == "postgresql":
        # Imported here: a server on SQLite should not carry the driver in memory.
        from zoompac.storage.postgres_reader import PostgresReader

        return CachedStore(engine, PostgresReader(engine))
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return CachedStore(engine, SqliteReader(database, read_files=own_process))
    return SqlStore(engine)


def build_runtime(settings: Settings, *, own_process: bool = False) -> Runtime:
    """Open and migrate the database, then wire the services on top of it.

    `own_process` means that the server has its process to itself, as under `zoompac serve`.
    Its SQLite read cache may then keep descriptors of the database files until it exits
    (see `zoompac.storage.changes`).
    """
    seed_random(settings.seed)
    engine = open_engine(settings.database)
    migrate(engine)
    store = _store_for(engine, own_process)
    clock = Clock(settings.clock_start)
    key = signing_key(engine)
    rate_policy = RateLimitPolicy(settings.rate_limits, parse_overrides(settings.rate_limit))
    rate_counter: InMemoryRateCounter | RedisRateCounter = InMemoryRateCounter()
    if settings.redis:
        # Imported here: a server without Redis should not carry the client in memory.
        from zoompac.storage.redis_counter import RedisRateCounter

        rate_counter = RedisRateCounter(settings.redis, settings.redis_prefix)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        store=store,
        clock=clock,
        tokens=TokenService(store, key, clock, _token_policy(settings)),
        rate_counter=rate_counter,
        rate_limiter=RateLimiter(rate_counter, rate_policy),
        page_tokens=PageTokenSigner(key),
    )
    runtime.startup_settings = runtime.runtime_settings()
    return runtime
