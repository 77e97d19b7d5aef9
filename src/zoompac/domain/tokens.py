"""Issuing and checking OAuth access tokens.

Tokens are JWTs signed with HS512, as Zoom's are, so clients that peek at `exp` keep working. The
signature proves the token came from this server. The token's row in the store is the authority
on whether it is still live, because revocation and app deactivation must take effect at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from zoompac.domain import errors
from zoompac.domain.clock import Clock
from zoompac.domain.models import App, AppKind, Grant
from zoompac.domain.ports import Store
from zoompac.domain.secrets import new_token_id, verify_client_secret

_ALGORITHM = "HS512"
_AUDIENCE = "https://oauth.zoom.us"
_DECODE_OPTIONS: Any = {
    "verify_signature": True,
    "verify_exp": False,  # Expiry is checked against the server clock, which tests can move.
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "require": ["jti", "exp"],
}


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    lifetime_seconds: int = 3600
    revoke_older_tokens: bool = False


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: tuple[str, ...]


class TokenService:
    def __init__(self, store: Store, signing_key: bytes, clock: Clock, policy: TokenPolicy) -> None:
        self._store = store
        self._signing_key = signing_key
        self._clock = clock
        self.policy = policy

    def issue_account_token(
        self, client_id: str, client_secret: str, account_id: str | None
    ) -> IssuedToken:
        """Run the Server-to-Server `account_credentials` grant."""
        app = self._store.get_app_by_client_id(client_id)
        if app is None or not app.active:
            raise errors.InvalidClient()
        if not verify_client_secret(client_secret, app.client_secret_hash):
            raise errors.InvalidClient()
        if app.kind is not AppKind.SERVER_TO_SERVER:
            raise errors.UnsupportedGrantType()
        if not account_id:
            raise errors.InvalidRequest("Missing account_id")
        if account_id != app.account_id:
            raise errors.InvalidGrant("Invalid account_id")
        return self._issue(app, user_id=None)

    def authenticate(self, bearer: str | None) -> Grant:
        """Turn a bearer token into the grant it carries, or raise Zoom's 124 errors."""
        if not bearer:
            raise errors.InvalidAccessToken()
        try:
            claims = jwt.decode(
                bearer, self._signing_key, algorithms=[_ALGORITHM], options=_DECODE_OPTIONS
            )
        except jwt.InvalidTokenError as exc:
            raise errors.InvalidAccessToken() from exc
        token_id = claims["jti"]
        if not isinstance(token_id, str):
            raise errors.InvalidAccessToken()
        grant = self._store.get_grant(token_id)
        if grant is None:
            raise errors.InvalidAccessToken()
        if grant.expires_at <= self._clock.now():
            raise errors.ExpiredAccessToken()
        return grant

    def _issue(self, app: App, user_id: str | None) -> IssuedToken:
        issued_at = self._clock.now().replace(microsecond=0)
        expires_at = issued_at + timedelta(seconds=self.policy.lifetime_seconds)
        token_id = new_token_id()
        claims = {
            "ver": 10,
            "aud": _AUDIENCE,
            "iss": f"zm:cid:{app.client_id}",
            "aid": app.account_id,
            "uid": user_id or "",
            "jti": token_id,
            "iat": int(issued_at.timestamp()),
            "nbf": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        access_token = jwt.encode(claims, self._signing_key, algorithm=_ALGORITHM)
        self._store.insert_token(
            token_id, app, user_id, issued_at, expires_at, self.policy.revoke_older_tokens
        )
        return IssuedToken(access_token, self.policy.lifetime_seconds, app.scopes)
