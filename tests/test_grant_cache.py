"""The cache of verified tokens never keeps a grant that a commit has replaced.

On PostgreSQL, requests run in worker threads. One request can read a token's grant, another
can then revoke the token and start a new cache generation, and only then does the first store
what it read. The store here is a real `CachedStore` on a SQLite file, whose grant lookup plays
that second request at the moment between the read and the store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from tests.helpers import FIXTURES_DIR, load_fixture_file
from zoompac.domain.clock import Clock
from zoompac.domain.errors import InvalidAccessToken
from zoompac.domain.models import Grant
from zoompac.domain.tokens import TokenPolicy, TokenService
from zoompac.storage.cache import CachedStore, SqliteReader
from zoompac.storage.database import open_engine, signing_key
from zoompac.storage.tables import access_tokens

FIXTURE = FIXTURES_DIR / "scale_out.yaml"


class RacingStore(CachedStore):
    """A `CachedStore` whose next grant lookup is followed by a revocation and a new request."""

    def __init__(self, engine: Engine, path: str) -> None:
        super().__init__(engine, SqliteReader(path))
        self.tokens: TokenService | None = None
        self.race_next = False

    def get_grant(self, token_id: str) -> Grant | None:
        grant = super().get_grant(token_id)
        if self.race_next:
            self.race_next = False
            with self.engine.begin() as connection:
                connection.execute(update(access_tokens).values(revoked=True))
            # The other request: it notices the commit and looks up a token of its own.
            self.refresh()
            assert self.tokens is not None
            self.tokens._cached_grant("another-bearer")
        return grant


@pytest.fixture
def tokens(tmp_path: Path) -> Iterator[tuple[TokenService, RacingStore]]:
    path = tmp_path / "grants.db"
    url = f"sqlite:///{path}"
    load_fixture_file(url, FIXTURE)
    engine = open_engine(url)
    store = RacingStore(engine, str(path))
    service = TokenService(store, signing_key(engine), Clock(), TokenPolicy())
    store.tokens = service
    yield service, store
    engine.dispose()


def test_revoked_during_read_not_cached(tokens: tuple[TokenService, RacingStore]) -> None:
    service, store = tokens
    bearer = service.issue_account_token("so-revoke-app", "scale-secret", "so-revoke").access_token
    store.refresh()
    store.race_next = True
    # Read before the revocation, so this request may still pass.
    assert service.authenticate(bearer).account_id == "so-revoke"
    store.refresh()
    with pytest.raises(InvalidAccessToken):
        service.authenticate(bearer)


def test_unrevoked_grant_cached(tokens: tuple[TokenService, RacingStore]) -> None:
    service, store = tokens
    bearer = service.issue_account_token("so-revoke-app", "scale-secret", "so-revoke").access_token
    store.refresh()
    first = service.authenticate(bearer)
    store.refresh()
    assert service._cached_grant(bearer) is first
