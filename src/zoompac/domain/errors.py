"""The server's exception hierarchy.

Every rule violation that Zoom reports to a caller is a `ZoomApiError` carrying Zoom's numeric
`code` and exact `message`. Only `zoompac.web.errors` decides which HTTP status each class gets, so
the status table lives in one place.
"""

from __future__ import annotations


class ZoompacError(Exception):
    """Base class of every error the zoompac server raises on purpose."""


class ZoomApiError(ZoompacError):
    """A failure that the emulated API reports as Zoom's `{"code", "message"}` body."""

    code: int = 0
    default_message: str = ""

    def __init__(self, message: str | None = None) -> None:
        self.message = self.default_message if message is None else message
        super().__init__(self.message)


class InvalidAccessToken(ZoomApiError):
    code = 124
    default_message = "Invalid access token."


class ExpiredAccessToken(ZoomApiError):
    code = 124
    default_message = "Access token is expired."


class MissingScopes(ZoomApiError):
    code = 4711

    def __init__(self, scopes: tuple[str, ...]) -> None:
        # Zoom's newest observed form: no space after the colon, ", " between scopes, final period.
        super().__init__(f"Invalid access token, does not contain scopes:[{', '.join(scopes)}].")
        self.scopes = scopes


class UserNotFound(ZoomApiError):
    code = 1001

    def __init__(self, user_ref: str) -> None:
        super().__init__(f"User does not exist: {user_ref}.")
        self.user_ref = user_ref


class UserNotInAccount(ZoomApiError):
    code = 1010
    default_message = "User does not belong to this account."


class AccountPacDisabled(ZoomApiError):
    code = 200
    default_message = "Account does not enable PAC."


class UserPacDisabled(ZoomApiError):
    code = 2024
    default_message = "User does not have PAC enabled."


class InvalidField(ZoomApiError):
    """A query parameter outside what the operation accepts."""

    code = 300

    def __init__(self, field: str, allowed: str) -> None:
        super().__init__(f"Invalid field: {field}. {allowed}")
        self.field = field


class InvalidPageToken(ZoomApiError):
    code = 300
    default_message = "The next page token is invalid or expired."


class ServiceUnavailable(ZoomApiError):
    """A dependency (the database or Redis) cannot be reached; the request may be retried."""

    code = 503
    default_message = "The service is temporarily unavailable. Try again later."


class TokenIdTaken(ZoompacError):
    """A new token's random id is already stored, as when seeded servers share a database."""


class OAuthError(ZoompacError):
    """A token-endpoint failure, reported in Zoom's OAuth envelope `{"reason", "error"}`."""

    def __init__(self, error: str, reason: str) -> None:
        super().__init__(f"{error}: {reason}")
        self.error = error
        self.reason = reason


class InvalidClient(OAuthError):
    def __init__(self) -> None:
        super().__init__("invalid_client", "Invalid client_id or client_secret")


class InvalidRequest(OAuthError):
    def __init__(self, reason: str) -> None:
        super().__init__("invalid_request", reason)


class UnsupportedGrantType(OAuthError):
    def __init__(self) -> None:
        super().__init__("unsupported_grant_type", "Unsupported grant type")


class InvalidGrant(OAuthError):
    def __init__(self, reason: str) -> None:
        super().__init__("invalid_grant", reason)


class FixtureError(ZoompacError):
    """A fixture document that cannot be loaded; `location` names the bad entry."""

    def __init__(self, location: str, problem: str) -> None:
        super().__init__(f"{location}: {problem}" if location else problem)
        self.location = location
        self.problem = problem


class AdminError(ZoompacError):
    """A provisioning request (`zoompac admin`) that was rejected; nothing was changed."""


class NotFound(AdminError):
    """The account, app, user or PAC account that a request names is not stored."""

    def __init__(self, kind: str, value: str, hint: str) -> None:
        # `kind` starts the sentence, so callers pass it capitalised: "User", "PAC account".
        super().__init__(f"{kind} {value!r} not found. {hint}")
        self.kind = kind
        self.value = value


class Conflict(AdminError):
    """A value that must be unique, such as an e-mail address or a client id, is already used."""


class InvalidValue(AdminError):
    """A value outside what its field allows; the message names the value and what is allowed."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        super().__init__(f"Invalid {field} {value!r}: {allowed}")
        self.field = field
        self.value = value
        self.allowed = allowed
