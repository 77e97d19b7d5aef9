"""The rules of the Users API: list an account's users, get one user, get a user's settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from zoompac.domain import errors
from zoompac.domain.models import Grant, User, UserStatus
from zoompac.domain.pac import resolve_pac_user, resolve_user
from zoompac.domain.ports import Store
from zoompac.domain.scopes import GET_USER, GET_USER_SETTINGS, LIST_USERS

DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 300
PAGE_TOKEN_LIFETIME_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class UserPage:
    users: list[User]
    page_number: int
    page_size: int
    page_count: int
    total_records: int
    next_page_token: str  # Empty on the last page, as Zoom sends it.


@dataclass(frozen=True, slots=True)
class _Cursor:
    """The content of a `next_page_token`: its query and the position where the next page starts."""

    account_id: str
    status: str
    page_size: int
    after_user_id: str
    page_number: int
    issued_at: int


class PageTokenSigner:
    """Signs page tokens so that callers cannot forge or edit them."""

    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"zoompac-page-token:" + key).digest()

    def encode(self, cursor: _Cursor) -> str:
        payload = json.dumps(
            [
                cursor.account_id,
                cursor.status,
                cursor.page_size,
                cursor.after_user_id,
                cursor.page_number,
                cursor.issued_at,
            ],
            separators=(",", ":"),
        ).encode()
        signature = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        return _b64(payload) + "." + _b64(signature)

    def decode(self, token: str) -> _Cursor:
        try:
            encoded_payload, encoded_signature = token.split(".")
            payload = _unb64(encoded_payload)
            signature = _unb64(encoded_signature)
        except ValueError as exc:
            raise errors.InvalidPageToken() from exc
        expected = hmac.new(self._key, payload, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(signature, expected):
            raise errors.InvalidPageToken()
        account_id, status, page_size, after_user_id, page_number, issued_at = json.loads(payload)
        return _Cursor(account_id, status, page_size, after_user_id, page_number, issued_at)


def list_users(
    store: Store,
    signer: PageTokenSigner,
    grant: Grant,
    now: datetime,
    *,
    status: str | None,
    page_size: str | None,
    next_page_token: str | None,
) -> UserPage:
    """Return one page of the account's users with the given status, ordered by user id.

    Pages are cut by user id (keyset pagination), so users added or removed between two pages
    never make a walk repeat or skip a user that existed for the whole walk.
    """
    if not LIST_USERS.allows(grant.scopes):
        raise errors.MissingScopes(LIST_USERS.reported)
    requested_status = _parse_status(status)
    size = _parse_page_size(page_size)

    after_user_id = ""
    page_number = 1
    if next_page_token:
        cursor = signer.decode(next_page_token)
        expired = now.timestamp() - cursor.issued_at > PAGE_TOKEN_LIFETIME_SECONDS
        same_query = (cursor.account_id, cursor.status, cursor.page_size) == (
            grant.account_id,
            requested_status.value,
            size,
        )
        if expired or not same_query:
            raise errors.InvalidPageToken()
        after_user_id = cursor.after_user_id
        page_number = cursor.page_number

    # One extra row shows whether another page follows.
    rows = store.list_users(grant.account_id, requested_status, after_user_id, size + 1)
    total = store.count_users(grant.account_id, requested_status)
    users = rows[:size]
    token = ""
    if len(rows) > size:
        token = signer.encode(
            _Cursor(
                grant.account_id,
                requested_status.value,
                size,
                users[-1].id,
                page_number + 1,
                int(now.timestamp()),
            )
        )
    page_count = -(-total // size)
    return UserPage(users, page_number, size, page_count, total, token)


def get_user(store: Store, grant: Grant, user_ref: str) -> User:
    if not GET_USER.allows(grant.scopes):
        raise errors.MissingScopes(GET_USER.reported)
    return resolve_user(store, grant, user_ref, GET_USER)


def get_user_pac_setting(store: Store, grant: Grant, user_ref: str) -> bool:
    """Return the user's Personal Audio Conference setting, the one user setting we model."""
    if not GET_USER_SETTINGS.allows(grant.scopes):
        raise errors.MissingScopes(GET_USER_SETTINGS.reported)
    return resolve_pac_user(store, grant, user_ref, GET_USER_SETTINGS).pac_enabled


def _parse_status(raw: str | None) -> UserStatus:
    if raw is None or raw == "":
        return UserStatus.ACTIVE
    try:
        return UserStatus(raw)
    except ValueError as exc:
        raise errors.InvalidField("status", "Expected active, inactive or pending.") from exc


def _parse_page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise errors.InvalidField(
            "page_size", f"Expected a whole number from 1 to {MAX_PAGE_SIZE}."
        )
    return int(raw)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("not base64url") from exc
