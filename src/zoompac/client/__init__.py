"""A typed Python client for Zoom's PAC and Users APIs that works against real Zoom and zoompac.

See docs/client.md for usage, the retry policy and the token cache.
"""

from zoompac.client._audit import AuditOutcome, AuditRecord, AuditResult, audit_pac_accounts
from zoompac.client._auth import (
    DEFAULT_TOKEN_URL,
    Auth,
    BearerToken,
    Credentials,
    RefreshingAuth,
    ServerToServerAuth,
    UserAuth,
)
from zoompac.client._client import (
    DEFAULT_BASE_URL,
    AsyncClient,
    Client,
    RetryEvent,
    user_path_segment,
)
from zoompac.client._errors import (
    InvalidTokenError,
    MissingScopesError,
    NotFetchedError,
    PacNotEnabledError,
    PaginationError,
    RateLimitedError,
    TokenCacheError,
    TokenError,
    UserNotFoundError,
    ZoomAPIError,
    ZoomClientError,
    ZoomTransportError,
)
from zoompac.client._models import DialInNumber, PacAccount, PacAccountList, User, UserPage
from zoompac.client._pacing import PLAN_LIMITS, RatePacer
from zoompac.client._retry import RetryAfter, RetryPolicy, parse_retry_after
from zoompac.client._tokens import AccessToken, TokenCache

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TOKEN_URL",
    "PLAN_LIMITS",
    "AccessToken",
    "AsyncClient",
    "AuditOutcome",
    "AuditRecord",
    "AuditResult",
    "Auth",
    "BearerToken",
    "Client",
    "Credentials",
    "DialInNumber",
    "InvalidTokenError",
    "MissingScopesError",
    "NotFetchedError",
    "PacAccount",
    "PacAccountList",
    "PacNotEnabledError",
    "PaginationError",
    "RateLimitedError",
    "RatePacer",
    "RefreshingAuth",
    "RetryAfter",
    "RetryEvent",
    "RetryPolicy",
    "ServerToServerAuth",
    "TokenCache",
    "TokenCacheError",
    "TokenError",
    "User",
    "UserAuth",
    "UserNotFoundError",
    "UserPage",
    "ZoomAPIError",
    "ZoomClientError",
    "ZoomTransportError",
    "audit_pac_accounts",
    "parse_retry_after",
    "user_path_segment",
]
