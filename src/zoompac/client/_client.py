"""A small synchronous client: Server-to-Server token fetch and the raw PAC call."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx

DEFAULT_BASE_URL = "https://api.zoom.us/v2"
DEFAULT_TOKEN_URL = "https://zoom.us/oauth/token"  # noqa: S105 (a URL, not a secret)
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class ZoomClientError(Exception):
    """Base class of the client's errors."""


class TokenError(ZoomClientError):
    """The token endpoint did not issue a token."""

    def __init__(self, message: str, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


@dataclass(frozen=True)
class Credentials:
    """The credentials of a Server-to-Server OAuth app."""

    account_id: str
    client_id: str
    client_secret: str

    def __repr__(self) -> str:
        # Keep the secret out of tracebacks and logs.
        return f"Credentials(account_id={self.account_id!r}, client_id={self.client_id!r})"


class ZoomClient:
    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        access_token: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        token_url: str = DEFAULT_TOKEN_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if credentials is None and access_token is None:
            raise ValueError("Pass credentials or an access_token.")
        self._credentials = credentials
        self._access_token = access_token
        self._base_url = base_url.rstrip("/")
        self._token_url = token_url
        self._http = httpx.Client(timeout=timeout)

    def __enter__(self) -> ZoomClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def fetch_token(self) -> str:
        """Run the `account_credentials` grant and keep the token for later calls."""
        if self._credentials is None:
            raise ValueError("Cannot fetch a token without credentials.")
        response = self._http.post(
            self._token_url,
            auth=(self._credentials.client_id, self._credentials.client_secret),
            data={"grant_type": "account_credentials", "account_id": self._credentials.account_id},
        )
        if response.status_code != 200:
            raise TokenError(f"The token endpoint returned HTTP {response.status_code}.", response)
        try:
            token = response.json()["access_token"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError("The token endpoint returned no access_token.", response) from exc
        if not isinstance(token, str):
            raise TokenError("The token endpoint returned no access_token.", response)
        self._access_token = token
        return token

    def get_user_pac_accounts_response(self, user_id: str) -> httpx.Response:
        """Send `GET /users/{userId}/pac` and return the response whatever its status."""
        token = self._access_token or self.fetch_token()
        return self._http.get(
            f"{self._base_url}/users/{user_path_segment(user_id)}/pac",
            headers={"Authorization": f"Bearer {token}"},
        )


def user_path_segment(user_id: str) -> str:
    """Percent-encode a user id or e-mail as exactly one path segment (`/` and `+` included)."""
    return quote(user_id, safe="")
