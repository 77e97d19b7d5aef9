"""Everything a running server shares between requests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from zoompac.domain.clock import Clock
from zoompac.domain.models import ConferenceIdFormat
from zoompac.domain.tokens import TokenPolicy, TokenService
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

    @property
    def conference_id_format(self) -> ConferenceIdFormat:
        return self.settings.conference_id_format


def build_runtime(settings: Settings) -> Runtime:
    """Open and migrate the database, then wire the services on top of it."""
    engine = open_engine(settings.database)
    migrate(engine)
    store = SqlStore(engine)
    clock = Clock()
    policy = TokenPolicy(
        lifetime_seconds=settings.token_lifetime,
        revoke_older_tokens=settings.revoke_older_tokens,
    )
    tokens = TokenService(store, signing_key(engine), clock, policy)
    return Runtime(settings, engine, store, clock, tokens)
