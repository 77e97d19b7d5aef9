"""Modules a server process never uses, kept out of its memory before the server's modules load."""

from __future__ import annotations

import sys


def leave_out_cryptography() -> None:
    """Make `import cryptography` fail in this process, so that PyJWT goes without it.

    zoompac signs and checks its tokens with HS512 alone. PyJWT imports `cryptography` for RSA
    and EC keys whenever it is installed, which adds about 7 MB to each server process. A None
    entry in `sys.modules` makes that import fail, and PyJWT then offers the HMAC algorithms
    only. Call it in processes that only serve, before PyJWT is first imported.
    """
    sys.modules.setdefault("cryptography", None)  # type: ignore[arg-type]
