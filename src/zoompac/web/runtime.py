"""Everything a running server shares between requests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from zoompac.domain.clock import Clock
from zoompac.domain.models import ConferenceIdFormat
from zoompac.domain.ratelimits import (
    InMemoryRateCounter,
    RateLimiter,
    RateLimitPolicy,
    parse_overrides,
)
from zoompac.domain.tokens import TokenPolicy, TokenService
from zoompac.domain.users import PageTokenSigner
from zoompac.settings import Settings
from zoompac.storage.database import migrate, open_engine, signing_key
from zoompac.storage.repository import SqlStore


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    store: SqlStore
    clock: Clock
    tokens: TokenService
    rate_limiter: RateLimiter
    page_tokens: PageTokenSigner

    @property
    def conference_id_format(self) -> ConferenceIdFormat:
        return self.settings.conference_id_format


def build_runtime(settings: Settings) -> Runtime:
    """Open and migrate the database, then wire the services on top of it."""
    engine = open_engine(settings.database)
    migrate(engine)
    store = SqlStore(engine)
    clock = Clock(settings.clock_start)
    key = signing_key(engine)
    token_policy = TokenPolicy(
        lifetime_seconds=settings.token_lifetime,
        revoke_older_tokens=settings.revoke_older_tokens,
    )
    rate_policy = RateLimitPolicy(settings.rate_limits, parse_overrides(settings.rate_limit))
    return Runtime(
        settings=settings,
        engine=engine,
        store=store,
        clock=clock,
        tokens=TokenService(store, key, clock, token_policy),
        rate_limiter=RateLimiter(InMemoryRateCounter(), rate_policy),
        page_tokens=PageTokenSigner(key),
    )
