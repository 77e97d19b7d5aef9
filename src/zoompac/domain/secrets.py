"""Hashing of client secrets, and every random value the server hands out.

All random values come from one generator. By default it is the operating system's CSPRNG; a
seed replaces it with a seeded `random.Random`, so ids, passwords, tokens and tracking ids repeat
from run to run. A seeded server's tokens are predictable: use a seed only in tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random

# scrypt cost parameters: about 16 MiB of memory and tens of milliseconds per hash, so a leaked
# database does not reveal low-entropy secrets such as the demo's.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_SALT_BYTES = 16

_generator: random.Random = random.SystemRandom()
# Tracking ids only need to differ, not to be unpredictable. The OS source costs a system call
# on every response, so this generator is seeded once from it, or from the seed.
_tracking_generator = random.Random(random.SystemRandom().getrandbits(128))


def seed_random(seed: int | None) -> None:
    """Make every generated value repeatable from `seed`, or unpredictable again with None."""
    global _generator
    _generator = random.SystemRandom() if seed is None else random.Random(seed)
    _tracking_generator.seed(random.SystemRandom().getrandbits(128) if seed is None else seed + 1)


def random_bytes(count: int) -> bytes:
    return _generator.getrandbits(count * 8).to_bytes(count, "big")


def random_urlsafe(count: int) -> str:
    """Return `count` random bytes as unpadded base64url text."""
    return _b64(random_bytes(count))


def hash_client_secret(secret: str) -> str:
    """Hash a client secret for storage, as `scrypt$n$r$p$salt$digest` in base64url."""
    salt = random_bytes(_SALT_BYTES)
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
    return new_identifier()


def new_identifier() -> str:
    """Generate 22 characters of base64url that do not start with "-".

    A leading "-" would make the id read as an option when it is passed to a command line.
    """
    while (identifier := random_urlsafe(16)).startswith("-"):
        pass
    return identifier


def new_token_id() -> str:
    return random_urlsafe(24)


def new_client_secret() -> str:
    return random_urlsafe(24)


def new_tracking_id() -> str:
    return f"v=2.0;clid=us02;rid=WEB_{_tracking_generator.getrandbits(128):032x}"


def new_conference_id() -> int:
    """Generate a 10-digit conference id."""
    return _generator.randrange(1_000_000_000, 10_000_000_000)


def new_pac_password() -> str:
    """Generate a 6-digit PAC password, the longest Zoom allows."""
    return f"{_generator.randrange(1_000_000):06d}"


def chance(probability: float) -> bool:
    """Return True with the given probability, from the shared generator."""
    return _generator.random() < probability


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
