"""Requests that queue for `CachedStore.refresh()` share one commit check, but never a stale one.

The reader here is a real `SqliteReader` whose check can be held at a gate, so that the tests
decide which request arrives while which check runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from zoompac.domain.errors import ServiceUnavailable
from zoompac.storage.cache import CachedStore, SqliteReader
from zoompac.storage.database import migrate, open_engine

# Long enough for a started thread to reach the store's lock and wait there.
SETTLE_SECONDS = 0.3


class GatedReader(SqliteReader):
    """A `SqliteReader` that counts its checks, pauses each at a gate and can fail the next."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.checks = 0
        self.inside = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.fail_next = False

    def changed(self) -> bool:
        self.checks += 1
        self.inside.set()
        assert self.gate.wait(10)
        if self.fail_next:
            self.fail_next = False
            raise ServiceUnavailable()
        return super().changed()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[CachedStore, GatedReader]]:
    path = tmp_path / "checks.db"
    engine = open_engine(f"sqlite:///{path}")
    migrate(engine)
    reader = GatedReader(str(path))
    yield CachedStore(engine, reader), reader
    reader.close()
    engine.dispose()


def refresh_in_thread(store: CachedStore, errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            store.refresh()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def refresh_two_queued(cached: CachedStore) -> list[BaseException]:
    """Queue two refreshes before any check begins, run them, and return what they raised."""
    errors: list[BaseException] = []
    with cached._lock:
        threads = [refresh_in_thread(cached, errors) for _ in range(2)]
        time.sleep(SETTLE_SECONDS)
    for thread in threads:
        thread.join(10)
    return errors


def test_queued_requests_share_check(store: tuple[CachedStore, GatedReader]) -> None:
    cached, reader = store
    assert refresh_two_queued(cached) == []
    assert reader.checks == 1


def test_check_in_flight_not_shared(store: tuple[CachedStore, GatedReader]) -> None:
    """A request that arrives while a check runs waits for a check of its own."""
    cached, reader = store
    errors: list[BaseException] = []
    reader.gate.clear()
    first = refresh_in_thread(cached, errors)
    assert reader.inside.wait(10)
    second = refresh_in_thread(cached, errors)
    time.sleep(SETTLE_SECONDS)
    reader.gate.set()
    first.join(10)
    second.join(10)
    assert errors == []
    assert reader.checks == 2


def test_failed_check_not_shared(store: tuple[CachedStore, GatedReader]) -> None:
    """A request queued behind a check that failed runs its own."""
    cached, reader = store
    reader.fail_next = True
    errors = refresh_two_queued(cached)
    assert [type(error) for error in errors] == [ServiceUnavailable]
    assert reader.checks == 2
