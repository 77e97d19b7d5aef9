"""The storage operations the domain rules need, as a protocol the storage layer implements."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from zoompac.domain.models import Account, App, Grant, PacAccount, PacUser, User, UserStatus


class Store(Protocol):
    def request_scope(self) -> AbstractContextManager[None]:
        """Group the reads of one request, for example on one database connection."""
        ...

    def refresh(self) -> None:
        """Make later reads see every commit made so far; called once at the start of a request."""
        ...

    def cache_generation(self) -> int | None:
        """Return a number that changes whenever stored data may have changed.

        None means the store offers no such number, and callers must not cache what it returns.
        """
        ...

    def get_account(self, account_id: str) -> Account | None: ...

    def get_app_by_client_id(self, client_id: str) -> App | None: ...

    def get_user(self, user_id: str) -> User | None: ...

    def find_user(self, user_ref: str) -> User | None:
        """Find a user by id, or by e-mail address compared case-insensitively."""
        ...

    def find_pac_user(self, user_ref: str) -> PacUser | None:
        """Find a user as `find_user` does, returning only what the PAC rules check."""
        ...

    def list_pac_accounts(self, user_id: str) -> list[PacAccount]: ...

    def insert_token(
        self,
        token_id: str,
        app: App,
        user_id: str | None,
        issued_at: datetime,
        expires_at: datetime,
        revoke_older: bool,
    ) -> None:
        """Record an issued token; with `revoke_older`, revoke the app's other tokens at once."""
        ...

    def get_grant(self, token_id: str) -> Grant | None:
        """Return the grant of a live token: known, not revoked, and of an active app."""
        ...

    def list_users(
        self, account_id: str, status: UserStatus, after_user_id: str, limit: int
    ) -> list[User]:
        """Return up to `limit` users of an account with ids after `after_user_id`, by id."""
        ...

    def count_users(self, account_id: str, status: UserStatus) -> int: ...

    def insert_authorization_code(
        self, code_hash: str, app_id: int, user_id: str, redirect_uri: str, expires_at: datetime
    ) -> None: ...

    def consume_authorization_code(
        self, code_hash: str, app_id: int, now: datetime
    ) -> tuple[str, str] | None:
        """Mark a live code of this app as used; return its (user id, redirect URI) or None.

        The check and the update are one atomic step, so a code works exactly once even when
        two requests race.
        """
        ...

    def insert_refresh_token(
        self, token_hash: str, app_id: int, user_id: str, expires_at: datetime
    ) -> None: ...

    def consume_refresh_token(self, token_hash: str, app_id: int, now: datetime) -> str | None:
        """Mark a live refresh token of this app as used and return its user id, atomically."""
        ...
