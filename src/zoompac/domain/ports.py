"""The storage operations the domain rules need, as a protocol the storage layer implements."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from zoompac.domain.models import Account, App, Grant, PacAccount, User


class Store(Protocol):
    def get_account(self, account_id: str) -> Account | None: ...

    def get_app_by_client_id(self, client_id: str) -> App | None: ...

    def get_user(self, user_id: str) -> User | None: ...

    def find_user(self, user_ref: str) -> User | None:
        """Find a user by id, or by e-mail address compared case-insensitively."""
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
