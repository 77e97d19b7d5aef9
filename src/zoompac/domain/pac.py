"""The rules of `GET /users/{userId}/pac`, checked in a fixed order.

Token validity and expiry come first (see `TokenService.authenticate`), then scope, then the `me`
rules, the user lookup, the account's plan and PAC setting, and last the user's PAC setting. The
cheapest checks run first, and nothing about a user is revealed before the caller is authorised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from zoompac.domain import errors
from zoompac.domain.models import Grant, PacUser, User
from zoompac.domain.ports import Store
from zoompac.domain.scopes import LIST_PAC_ACCOUNTS, OperationScopes

ME = "me"

# A user record of either kind. The rules below read only `account_id`, and the PAC rules
# `pac_enabled` as well.
U = TypeVar("U", User, PacUser)


def pac_holder(store: Store, grant: Grant, user_ref: str) -> PacUser:
    """Return the user named by `user_ref`, whose PAC accounts the grant may list.

    The caller reads the list itself by the user's id (`Store.list_pac_accounts`), so it can
    keep lists it has already encoded.
    """
    if not LIST_PAC_ACCOUNTS.allows(grant.scopes):
        raise errors.MissingScopes(LIST_PAC_ACCOUNTS.reported)
    user = _resolve(grant, user_ref, LIST_PAC_ACCOUNTS, store.find_pac_user)

    account = store.get_account(user.account_id)
    if account is None or not account.offers_pac:
        raise errors.AccountPacDisabled()
    if not user.pac_enabled:
        raise errors.UserPacDisabled()
    return user


def resolve_user(store: Store, grant: Grant, user_ref: str, scopes: OperationScopes) -> User:
    """Find the user a path's `userId` names, applying Zoom's `me` rules (see `_resolve`)."""
    return _resolve(grant, user_ref, scopes, store.find_user)


def resolve_pac_user(store: Store, grant: Grant, user_ref: str, scopes: OperationScopes) -> PacUser:
    """Find the user a path's `userId` names, as `resolve_user` does, as a `PacUser`."""
    return _resolve(grant, user_ref, scopes, store.find_pac_user)


def _resolve(
    grant: Grant, user_ref: str, scopes: OperationScopes, find: Callable[[str], U | None]
) -> U:
    """Find the user a path's `userId` names with `find`, applying Zoom's `me` rules.

    A token that holds only user scopes must say `me`; any other `userId`, its own id included,
    is a scope error naming the admin scopes. A Server-to-Server token has no user, so `me` names
    nobody.
    """
    if user_ref == ME:
        # A user id never contains "@", so `find` looks it up as an id.
        user = find(grant.user_id) if grant.user_id is not None else None
    else:
        if not scopes.allows_any_user(grant.scopes):
            raise errors.MissingScopes(scopes.reported_admin)
        user = find(user_ref)

    if user is None:
        raise errors.UserNotFound(user_ref)
    if user.account_id != grant.account_id:
        raise errors.UserNotInAccount()
    return user
