"""Access tokens and the token cache that processes share.

The cache is one JSON file per app and account, under the user's cache folder, guarded by a lock
file. Processes that run at once read the token another one fetched instead of fetching their
own: under Zoom's old policy, which zoompac can emulate, every new token revokes the app's older
ones, so two processes that each fetch would keep revoking each other's tokens.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from filelock import FileLock
from platformdirs import user_cache_path

from zoompac.client._errors import TokenCacheError


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An access token with its expiry as an absolute UTC time.

    The expiry is absolute so that a token read back from the cache, or held across a long
    pause, is judged by the clock and not by when it was fetched.
    """

    access_token: str = field(repr=False)
    expires_at: datetime
    # `expires_in` as issued; it scales the refresh margin for very short-lived tokens.
    lifetime: float
    scope: str = ""
    refresh_token: str | None = field(default=None, repr=False)

    def refresh_due(self, now: datetime, margin: float) -> bool:
        """Return whether the token is expired or close enough to expiry to fetch a new one.

        The margin is at most a quarter of the lifetime, so a token that lives five seconds is
        still used for most of them.
        """
        lead = timedelta(seconds=min(margin, self.lifetime / 4))
        return now >= self.expires_at - lead

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "expires_at": self.expires_at.astimezone(UTC).isoformat(),
            "lifetime": self.lifetime,
            "scope": self.scope,
            "refresh_token": self.refresh_token,
        }

    @classmethod
    def from_json(cls, data: Any) -> AccessToken:
        """Read a cached token; raises ValueError on anything but what `to_json` wrote."""
        if not isinstance(data, dict):
            raise ValueError("a cached token must be a JSON object")
        token = data.get("access_token")
        refresh = data.get("refresh_token")
        lifetime = data.get("lifetime")
        if not isinstance(token, str) or not token:
            raise ValueError("access_token is missing")
        if refresh is not None and not isinstance(refresh, str):
            raise ValueError("refresh_token must be a string")
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool):
            raise ValueError("lifetime must be a number")
        expires_at = datetime.fromisoformat(str(data.get("expires_at")))
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must carry a time zone")
        return cls(
            token, expires_at.astimezone(UTC), float(lifetime), str(data.get("scope", "")), refresh
        )


def default_cache_dir() -> Path:
    """Return the token cache folder: `~/.cache/zoompac/tokens` on Linux."""
    return user_cache_path("zoompac", appauthor=False) / "tokens"


class TokenCache:
    """Access tokens (and user-level refresh tokens) stored in files that processes share.

    A key names one app of one account on one token endpoint; `cache_key` builds it. Files are
    created with mode 0600 in a folder created with mode 0700. Client secrets are never written.
    """

    def __init__(
        self, directory: str | os.PathLike[str] | None = None, *, lock_timeout: float = 60.0
    ) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"TokenCache({str(self.directory)!r})"

    def lock(self, key: str) -> FileLock:
        """Return the lock that one process holds while it reads, fetches and writes `key`.

        It is not tied to a thread, because the async client acquires and releases it from
        different worker threads.
        """
        self._ensure_directory()
        return FileLock(
            self.directory / f"{key}.lock",
            timeout=self.lock_timeout,
            mode=0o600,
            thread_local=False,
        )

    def load(self, key: str, secret_check: str = "") -> AccessToken | None:
        """Return the stored token, or None when there is none, the file is unreadable as a token,
        or it was fetched with another client secret than the one `secret_check` was made from.

        Without that check, a caller holding a wrong or revoked secret would be handed the
        token that the right secret fetched, and would not learn that its secret is wrong.
        """
        path = self.directory / f"{key}.json"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenCacheError(
                f"Cannot read the token cache file {str(path)!r}: {exc.strerror}. Fix its "
                "permissions, delete it, or turn the token cache off."
            ) from exc
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("secret_check", "") != secret_check:
                return None
            return AccessToken.from_json(data)
        except ValueError:
            # A torn or foreign file: the next fetch overwrites it.
            return None

    def store(
        self, key: str, token: AccessToken, identity: dict[str, str], secret_check: str = ""
    ) -> None:
        """Write `token` atomically: readers see the old file or the new one, never half."""
        self._ensure_directory()
        document = {**identity, "secret_check": secret_check, **token.to_json()}
        payload = json.dumps(document, indent=2)
        target = self.directory / f"{key}.json"
        try:
            # mkstemp creates the file with mode 0600 before anything is written to it.
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(payload)
            os.replace(temporary, target)
        except OSError as exc:
            raise TokenCacheError(
                f"Cannot write the token cache file {str(target)!r}: {exc.strerror}. Fix the "
                "folder's permissions, or turn the token cache off."
            ) from exc

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise TokenCacheError(
                f"Cannot create the token cache folder {str(self.directory)!r}: {exc.strerror}. "
                "Choose another folder, or turn the token cache off."
            ) from exc


def secret_check(secret: str, salt: str) -> str:
    """Hash a client secret, salted and slowly, to compare secrets without storing one."""
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt.encode(), SECRET_CHECK_ROUNDS)
    return digest.hex()[:32]


# Enough rounds that guessing a secret from a cache file is slow, few enough to cost one
# process a few milliseconds once.
SECRET_CHECK_ROUNDS = 20_000


def cache_key(*parts: str) -> str:
    """Build a file-name-safe key for the token of one app, account and token endpoint."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
