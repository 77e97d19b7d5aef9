"""`VersionedCache` never returns a value stored for another version than the one looked up.

A request on a worker thread can store a body built from older data while another request looks
up the same key for the newer version. The version object below runs that store at the one
moment in between: while the lookup compares versions.
"""

from __future__ import annotations

from zoompac.storage.cache import VersionedCache

OLD_BODY = b'{"pac_accounts":[{"participant_password":"111111"}]}'
NEW_BODY = b'{"pac_accounts":[{"participant_password":"222222"}]}'


class RacingVersion:
    """A version equal to those of the same number, which can run a store during a comparison."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.during_comparison: list[tuple[VersionedCache[str, bytes], RacingVersion]] = []

    def __eq__(self, other: object) -> bool:
        if self.during_comparison:
            cache, version = self.during_comparison.pop()
            cache.put("user-1", version, OLD_BODY)
        return isinstance(other, RacingVersion) and other.number == self.number

    def __hash__(self) -> int:
        return self.number


def test_older_store_during_lookup_missed() -> None:
    cache: VersionedCache[str, bytes] = VersionedCache()
    old, new = RacingVersion(1), RacingVersion(2)
    cache.put("user-1", new, NEW_BODY)
    new.during_comparison.append((cache, old))
    assert cache.get("user-1", new) in (NEW_BODY, None)
    assert cache.get("user-1", new) is None


def test_current_version_found() -> None:
    cache: VersionedCache[str, bytes] = VersionedCache()
    cache.put("user-1", RacingVersion(2), NEW_BODY)
    assert cache.get("user-1", RacingVersion(2)) == NEW_BODY
    assert cache.get("user-1", RacingVersion(1)) is None
