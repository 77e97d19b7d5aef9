"""A small Zoom integration: report the conference ids of a user's PAC accounts."""

from __future__ import annotations

from urllib.parse import quote

import httpx


class ZoomUnavailable(Exception):
    """Zoom answered with a server error or a rate limit; try again later."""


def conference_ids(http: httpx.Client, token: str, user: str) -> list[str]:
    """Return the user's PAC conference ids; a user with PAC turned off has none."""
    response = http.get(
        f"/users/{quote(user, safe='')}/pac", headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code == 429 or response.status_code >= 500:
        raise ZoomUnavailable(f"Zoom returned HTTP {response.status_code}")
    if response.status_code == 400 and response.json().get("code") == 2024:
        return []
    response.raise_for_status()
    return [str(account["conference_id"]) for account in response.json()["pac_accounts"]]
