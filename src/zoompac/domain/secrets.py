"""Hashing of client secrets, and the random values the server hands out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt cost parameters: about 16 MiB of memory and tens of milliseconds per hash, so a leaked
# database does not reveal low-entropy secrets such as the demo's.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_SALT_BYTES = 16


def hash_client_secret(secret: str) -> str:
    """Hash a client secret for storage, as `scrypt$n$r$p$salt$digest` in base64url."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    return "$".join(
        ["scrypt", str(_SCRYPT_N), str(_SCRYPT_R), str(_SCRYPT_P), _b64(salt), _b64(digest)]
    )


def verify_client_secret(secret: str, stored_hash: str) -> bool:
    """Check a presented secret against a stored hash in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored_hash.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = _scrypt(secret, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def new_user_id() -> str:
    """Generate a Zoom-style user id: 22 characters of base64url."""
    return secrets.token_urlsafe(16)


def new_token_id() -> str:
    return secrets.token_urlsafe(24)


def new_tracking_id() -> str:
    return f"v=2.0;clid=us02;rid=WEB_{secrets.token_hex(16)}"


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_conference_id() -> int:
    """Generate a 10-digit conference id."""
    return secrets.randbelow(9_000_000_000) + 1_000_000_000


def new_pac_password() -> str:
    """Generate a 6-digit PAC password, the longest Zoom allows."""
    return f"{secrets.randbelow(1_000_000):06d}"
