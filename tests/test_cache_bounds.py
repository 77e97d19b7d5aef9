"""The read caches stay within their bound, drop their oldest entries first, and share records."""

from __future__ import annotations

from pathlib import Path

from zoompac.storage import admin
from zoompac.storage.cache import CachedStore, SqliteReader, VersionedCache, remember
from zoompac.storage.database import migrate, open_engine


def test_remember_drops_oldest_batch() -> None:
    cache: dict[int, int] = {}
    for key in range(640):
        remember(cache, key, key, max_entries=640)
    assert len(cache) == 640

    remember(cache, 640, 640, max_entries=640)

    # A full cache drops its oldest 1/64 (10 of 640) before storing.
    assert len(cache) == 631
    assert min(cache) == 10
    assert cache[640] == 640


def test_remember_never_exceeds_bound() -> None:
    cache: dict[int, int] = {}
    for key in range(10_000):
        remember(cache, key, key, max_entries=100)
        assert len(cache) <= 100
    assert 9_999 in cache


def test_remember_tiny_bound() -> None:
    cache: dict[str, int] = {}
    remember(cache, "a", 1, max_entries=1)
    remember(cache, "b", 2, max_entries=1)
    assert cache == {"b": 2}


def test_versioned_cache_new_version_empties() -> None:
    cache: VersionedCache[str, bytes] = VersionedCache(max_entries=64)
    cache.put("user", 1, b"old")
    assert cache.get("user", 1) == b"old"
    assert cache.get("user", 2) is None

    cache.put("other", 2, b"new")

    assert cache.get("user", 2) is None
    assert cache.get("other", 2) == b"new"
    assert cache.get("other", 1) is None


def test_email_and_id_share_record(tmp_path: Path) -> None:
    database = tmp_path / "cache.sqlite"
    engine = open_engine(f"sqlite:///{database}")
    migrate(engine)
    admin.create_account(engine, "acct")
    admin.create_user(engine, "acct", "Shared.User@example.com", user_id="shared-user")
    reader = SqliteReader(str(database))
    store = CachedStore(engine, reader)
    try:
        by_email = store.find_pac_user("SHARED.user@example.com")
        by_id = store.find_pac_user("shared-user")
        again = store.find_pac_user("shared.USER@example.com")
    finally:
        reader.close()
        engine.dispose()

    assert by_email is not None
    assert by_email.id == "shared-user"
    assert by_email.account_id == "acct"
    assert by_email.pac_enabled
    # One record serves every way of addressing the user.
    assert by_id is by_email
    assert again is by_email
