"""OAuth scopes that unlock each API operation.

Zoom lists classic scopes (`pac:read:admin`) and granular ones (`pac:read:list_pac_accounts:admin`);
either form satisfies a call. Admin scopes reach any user of the account, user scopes only the
token's own user, addressed as `me`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OperationScopes:
    admin: frozenset[str]
    user: frozenset[str]
    # The scopes named in the 4711 message, in Zoom's order.
    reported: tuple[str, ...]
    reported_admin: tuple[str, ...]

    def allows(self, granted: frozenset[str]) -> bool:
        return not granted.isdisjoint(self.admin) or not granted.isdisjoint(self.user)

    def allows_any_user(self, granted: frozenset[str]) -> bool:
        return not granted.isdisjoint(self.admin)


LIST_PAC_ACCOUNTS = OperationScopes(
    admin=frozenset({"pac:read:admin", "pac:read:list_pac_accounts:admin"}),
    user=frozenset({"pac:read", "pac:read:list_pac_accounts"}),
    reported=("pac:read:admin", "pac:read"),
    reported_admin=("pac:read:admin",),
)

# Listing every user of an account is an admin operation; no user scope grants it.
LIST_USERS = OperationScopes(
    admin=frozenset({"user:read:admin", "user:write:admin", "user:read:list_users:admin"}),
    user=frozenset(),
    reported=("user:read:admin",),
    reported_admin=("user:read:admin",),
)

GET_USER = OperationScopes(
    admin=frozenset({"user:read:admin", "user:write:admin", "user:read:user:admin"}),
    user=frozenset({"user:read", "user:write", "user:read:user"}),
    reported=("user:read:admin", "user:read"),
    reported_admin=("user:read:admin",),
)

GET_USER_SETTINGS = OperationScopes(
    admin=frozenset({"user:read:admin", "user:write:admin", "user:read:settings:admin"}),
    user=frozenset({"user:read", "user:write", "user:read:settings"}),
    reported=("user:read:admin", "user:read"),
    reported_admin=("user:read:admin",),
)
