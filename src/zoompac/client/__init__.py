"""A Python client for Zoom's PAC API that works against real Zoom and zoompac alike."""

from zoompac.client._client import (
    DEFAULT_BASE_URL,
    DEFAULT_TOKEN_URL,
    Credentials,
    TokenError,
    ZoomClient,
    ZoomClientError,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TOKEN_URL",
    "Credentials",
    "TokenError",
    "ZoomClient",
    "ZoomClientError",
]
