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
