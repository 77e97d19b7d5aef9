"""Issuing and checking OAuth access tokens.

Tokens are JWTs signed with HS512, as Zoom's are, so clients that peek at `exp` keep working. The
signature proves the token came from this server. The token's row in the store is the authority
on whether it is still live, because revocation and app deactivation must take effect at once.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from zoompac.domain import errors
from zoompac.domain.clock import Clock
from zoompac.domain.models import App, AppKind, Grant, User, UserStatus
from zoompac.domain.ports import Store
from zoompac.domain.secrets import new_token_id, random_urlsafe, verify_client_secret

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


AUTHORIZATION_CODE_LIFETIME = timedelta(minutes=5)
MAX_CACHED_GRANTS = 20_000
_TOKEN_ID_ATTEMPTS = 5
REFRESH_TOKEN_LIFETIME = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: tuple[str, ...]
    refresh_token: str | None = None


class TokenService:
    def __init__(self, store: Store, signing_key: bytes, clock: Clock, policy: TokenPolicy) -> None:
        self._store = store
        self._signing_key = signing_key
        self._clock = clock
        self.policy = policy
        # client id -> (SHA-256 of a secret that passed scrypt, the stored hash it passed against),
        # so repeated token requests do not pay for scrypt each time.
        self._verified_secrets: dict[str, tuple[bytes, str]] = {}
        # Bearer token -> the store's cache generation it was read under, and its grant. Valid
        # while that generation lasts: any revocation or app change is a commit, which starts a
        # new generation.
        self._grants: dict[str, tuple[int, Grant]] = {}
        self._grants_generation: int | None = None

    def issue_account_token(
        self, client_id: str, client_secret: str, account_id: str | None
    ) -> IssuedToken:
        """Run the Server-to-Server `account_credentials` grant."""
        app = self._authenticate_client(client_id, client_secret)
        if app.kind is not AppKind.SERVER_TO_SERVER:
            raise errors.UnsupportedGrantType()
        if not account_id:
            raise errors.InvalidRequest("Missing account_id")
        if account_id != app.account_id:
            raise errors.InvalidGrant("Invalid account_id")
        return self._issue(app, user_id=None)

    def user_app(self, client_id: str | None) -> App:
        """Return the active user-level app that an authorization request names."""
        app = self._store.get_app_by_client_id(client_id) if client_id else None
        if app is None or not app.active:
            raise errors.OAuthError("invalid_client", "Invalid client_id")
        if app.kind is not AppKind.USER:
            raise errors.OAuthError(
                "unauthorized_client", "This app cannot use the authorization code grant"
            )
        return app

    def redirect_uri_for(self, app: App, requested: str | None) -> str:
        """Check a requested redirect URI against the app's registered one."""
        if app.redirect_uri is None or (requested and requested != app.redirect_uri):
            raise errors.InvalidRequest("Redirect URI mismatch.")
        return app.redirect_uri

    def consenting_user(self, app: App, user_ref: str) -> User:
        """Return the active user of the app's account who grants consent."""
        user = self._store.find_user(user_ref)
        if user is None or user.account_id != app.account_id or user.status != UserStatus.ACTIVE:
            raise errors.InvalidRequest("The consenting user is not an active user of this account")
        return user

    def create_authorization_code(self, app: App, user: User, redirect_uri: str) -> str:
        code = random_urlsafe(24)
        expires_at = self._clock.now() + AUTHORIZATION_CODE_LIFETIME
        self._store.insert_authorization_code(
            _digest(code), app.id, user.id, redirect_uri, expires_at
        )
        return code

    def exchange_authorization_code(
        self, client_id: str, client_secret: str, code: str | None, redirect_uri: str | None
    ) -> IssuedToken:
        """Run the `authorization_code` grant: a code works once, within five minutes."""
        app = self._authenticate_client(client_id, client_secret)
        if app.kind is not AppKind.USER:
            raise errors.UnsupportedGrantType()
        if not code:
            raise errors.InvalidRequest("Missing code")
        claimed = self._store.consume_authorization_code(_digest(code), app.id, self._clock.now())
        if claimed is None:
            raise errors.InvalidGrant("Invalid authorization code")
        user_id, expected_redirect_uri = claimed
        if redirect_uri != expected_redirect_uri:
            raise errors.InvalidGrant("Redirect URI mismatch.")
        return self._issue_with_refresh_token(app, user_id)

    def refresh(self, client_id: str, client_secret: str, refresh_token: str | None) -> IssuedToken:
        """Run the `refresh_token` grant; the refresh token is spent and a new one issued."""
        app = self._authenticate_client(client_id, client_secret)
        if app.kind is not AppKind.USER:
            raise errors.UnsupportedGrantType()
        if not refresh_token:
            raise errors.InvalidRequest("Missing refresh_token")
        user_id = self._store.consume_refresh_token(
            _digest(refresh_token), app.id, self._clock.now()
        )
        if user_id is None:
            raise errors.InvalidGrant("Invalid Token!")
        return self._issue_with_refresh_token(app, user_id)

    def authenticate(self, bearer: str | None) -> Grant:
        """Turn a bearer token into the grant it carries, or raise Zoom's 124 errors."""
        if not bearer:
            raise errors.InvalidAccessToken()
        grant = self._cached_grant(bearer)
        if grant is None:
            grant = self._verify(bearer)
        if grant.expires_at <= self._clock.now():
            raise errors.ExpiredAccessToken()
        return grant

    def _cached_grant(self, bearer: str) -> Grant | None:
        generation = self._store.cache_generation()
        if generation is None:
            return None
        if generation != self._grants_generation:
            self._grants = {}
            self._grants_generation = generation
        entry = self._grants.get(bearer)
        # An entry from an older generation may have landed in this dict after it replaced the
        # old one: a request in another thread read it before a commit and stored it after.
        if entry is None or entry[0] != generation:
            return None
        return entry[1]

    def _verify(self, bearer: str) -> Grant:
        import jwt  # See _jwt_encode.

        try:
            claims = jwt.decode(
                bearer, self._signing_key, algorithms=[_ALGORITHM], options=_DECODE_OPTIONS
            )
        except jwt.InvalidTokenError as exc:
            raise errors.InvalidAccessToken() from exc
        token_id = claims["jti"]
        if not isinstance(token_id, str):
            raise errors.InvalidAccessToken()
        # Read before the grant: a grant read from data that a commit has since replaced then
        # carries the older generation, and is never served once the newer one is seen.
        generation = self._store.cache_generation()
        grant = self._store.get_grant(token_id)
        if grant is None:
            raise errors.InvalidAccessToken()
        if generation is not None:
            if len(self._grants) >= MAX_CACHED_GRANTS:
                self._grants = {}
            self._grants[bearer] = (generation, grant)
        return grant

    def _authenticate_client(self, client_id: str, client_secret: str) -> App:
        app = self._store.get_app_by_client_id(client_id)
        if app is None or not app.active:
            raise errors.InvalidClient()
        presented = hashlib.sha256(client_secret.encode()).digest()
        cached = self._verified_secrets.get(client_id)
        if (
            cached is not None
            and cached[1] == app.client_secret_hash
            and hmac.compare_digest(cached[0], presented)
        ):
            return app
        if not verify_client_secret(client_secret, app.client_secret_hash):
            raise errors.InvalidClient()
        self._verified_secrets[client_id] = (presented, app.client_secret_hash)
        return app

    def _issue_with_refresh_token(self, app: App, user_id: str) -> IssuedToken:
        issued = self._issue(app, user_id)
        refresh_token = random_urlsafe(32)
        expires_at = self._clock.now() + REFRESH_TOKEN_LIFETIME
        self._store.insert_refresh_token(_digest(refresh_token), app.id, user_id, expires_at)
        return IssuedToken(issued.access_token, issued.expires_in, issued.scopes, refresh_token)

    def _issue(self, app: App, user_id: str | None) -> IssuedToken:
        # Seeded servers that share a database draw the same ids; a few draws resolve that.
        for _ in range(_TOKEN_ID_ATTEMPTS - 1):
            try:
                return self._issue_once(app, user_id)
            except errors.TokenIdTaken:
                continue
        return self._issue_once(app, user_id)

    def _issue_once(self, app: App, user_id: str | None) -> IssuedToken:
        issued_at = self._clock.now()
        # Rounded up to the whole second that the JWT and the store keep, so a token never
        # expires before `expires_in` seconds have passed.
        expires_at = utc_from_timestamp(
            math.ceil(issued_at.timestamp() + self.policy.lifetime_seconds)
        )
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
        access_token = _jwt_encode(claims, self._signing_key)
        self._store.insert_token(
            token_id, app, user_id, issued_at, expires_at, self.policy.revoke_older_tokens
        )
        return IssuedToken(access_token, self.policy.lifetime_seconds, app.scopes)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def utc_from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _jwt_encode(claims: dict[str, Any], key: bytes) -> str:
    # PyJWT is imported on first use. A worker of `zoompac serve --workers N` imports this module
    # while it unpickles its configuration, before it can keep PyJWT from loading `cryptography`
    # (`zoompac.web.lean`).
    import jwt

    return jwt.encode(claims, key, algorithm=_ALGORITHM)
