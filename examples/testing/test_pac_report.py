"""Tests of pac_report against zoompac; the first one runs against real Zoom too."""

from __future__ import annotations

import httpx
import pytest
from pac_report import ZoomUnavailable, conference_ids

from zoompac.testing import ControlPlane

PAC_USER = "pac.user@example.com"
PAC_PATH = "/v2/users/{userId}/pac"


def test_lists_conference_ids(zoom_http: httpx.Client, zoom_token: str) -> None:
    assert conference_ids(zoom_http, zoom_token, PAC_USER) == ["111111"]


def test_pac_disabled_means_none(
    zoompac: ControlPlane, zoom_http: httpx.Client, zoom_token: str
) -> None:
    zoompac.update_user(PAC_USER, pac_enabled=False)

    assert conference_ids(zoom_http, zoom_token, PAC_USER) == []


def test_expired_token_is_rejected(
    zoompac: ControlPlane, zoom_http: httpx.Client, zoom_token: str
) -> None:
    zoompac.advance_clock(3601)

    with pytest.raises(httpx.HTTPStatusError) as failure:
        conference_ids(zoom_http, zoom_token, PAC_USER)
    assert failure.value.response.json() == {"code": 124, "message": "Access token is expired."}


def test_rate_limit_raises(zoompac: ControlPlane, zoom_http: httpx.Client, zoom_token: str) -> None:
    zoompac.settings(rate_limit=["pro.light=1"])
    zoompac.freeze_clock()
    conference_ids(zoom_http, zoom_token, PAC_USER)

    with pytest.raises(ZoomUnavailable, match="429"):
        conference_ids(zoom_http, zoom_token, PAC_USER)


def test_server_fault_raises(
    zoompac: ControlPlane, zoom_http: httpx.Client, zoom_token: str
) -> None:
    zoompac.add_fault(path=PAC_PATH, status=503, times=1)

    with pytest.raises(ZoomUnavailable, match="503"):
        conference_ids(zoom_http, zoom_token, PAC_USER)
    assert conference_ids(zoom_http, zoom_token, PAC_USER) == ["111111"]
    assert [entry["status"] for entry in zoompac.journal(path="/v2/users/")] == [503, 200]
