"""pytest plugin: zoompac as the Zoom of your tests.

Registered through the `pytest11` entry point, so installing zoompac makes these fixtures
available:

- `zoom_api`: where to send requests (API URL, token URL, credentials), reset before each test;
- `zoom_credentials`, `zoom_token`, `zoom_http` (a plain httpx client on the API URL);
- `zoompac`: the control plane (reset, load, journal, faults, clock, settings, users);
- `zoompac_server`: the session's `ZoompacServer`.

`--zoompac-target` picks where the tests run: `server` (default, HTTP over loopback),
`inprocess` (an httpx transport calling the ASGI app directly, over the same state) or `zoom`
(real Zoom, from ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET; tests that use the
`zoompac` fixture are skipped there).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from zoompac.client import DEFAULT_BASE_URL, DEFAULT_TOKEN_URL, Credentials
from zoompac.testing._control import ControlPlane
from zoompac.testing._server import DEMO_CREDENTIALS, ZoompacServer
from zoompac.testing._transport import InProcessTransport

TARGETS = ("server", "inprocess", "zoom")
_ZOOM_VARIABLES = ("ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET")


@dataclass(frozen=True)
class ZoomApi:
    """The target of a test's Zoom requests."""

    target: str
    api_url: str
    token_url: str
    credentials: Credentials
    transport: httpx.BaseTransport | None = None

    @property
    def emulated(self) -> bool:
        return self.target != "zoom"


def pytest_addoption(parser: pytest.Parser) -> None:
    target = os.environ.get("ZOOMPAC_TARGET", "server")
    if target not in TARGETS:
        raise pytest.UsageError(
            f"ZOOMPAC_TARGET={target!r} is not a target: expected one of {', '.join(TARGETS)}."
        )
    group = parser.getgroup("zoompac")
    group.addoption(
        "--zoompac-target",
        choices=TARGETS,
        default=target,
        help="server (default), inprocess, or zoom for real Zoom [env: ZOOMPAC_TARGET]",
    )
    parser.addini("zoompac_fixtures", "Fixture files the zoompac server loads", type="paths")
    parser.addini("zoompac_seed", "Seed of the zoompac server's generated values", default="")


@pytest.fixture(scope="session")
def zoompac_server(pytestconfig: pytest.Config) -> Iterator[ZoompacServer | None]:
    """Start the session's zoompac server; yield None when the tests target real Zoom."""
    if pytestconfig.getoption("zoompac_target") == "zoom":
        yield None
        return
    fixtures = [Path(path) for path in pytestconfig.getini("zoompac_fixtures")]
    seed = pytestconfig.getini("zoompac_seed")
    server = ZoompacServer(fixtures=fixtures, seed=int(seed) if seed else None).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _zoompac_transport(
    pytestconfig: pytest.Config, zoompac_server: ZoompacServer | None
) -> Iterator[InProcessTransport | None]:
    if zoompac_server is None or pytestconfig.getoption("zoompac_target") != "inprocess":
        yield None
        return
    transport = zoompac_server.in_process_transport()
    yield transport
    transport.close()


@pytest.fixture
def zoom_api(
    pytestconfig: pytest.Config,
    zoompac_server: ZoompacServer | None,
    _zoompac_transport: InProcessTransport | None,
) -> ZoomApi:
    """Return the API under test, resetting an emulated one to its fixtures first."""
    target = pytestconfig.getoption("zoompac_target")
    if zoompac_server is None:
        return _real_zoom()
    zoompac_server.control.reset()
    return ZoomApi(
        target,
        zoompac_server.api_url,
        zoompac_server.token_url,
        DEMO_CREDENTIALS,
        _zoompac_transport,
    )


@pytest.fixture
def zoompac(zoom_api: ZoomApi, zoompac_server: ZoompacServer | None) -> ControlPlane:
    """Return the control plane of the session's server, and skip the test against real Zoom."""
    if zoompac_server is None:
        pytest.skip("needs the zoompac control plane, which real Zoom does not have")
    return zoompac_server.control


@pytest.fixture
def zoom_credentials(zoom_api: ZoomApi) -> Credentials:
    return zoom_api.credentials


@pytest.fixture
def zoom_http(zoom_api: ZoomApi) -> Iterator[httpx.Client]:
    """Yield a plain httpx client whose base URL is the API URL (`.../v2`)."""
    with _http_client(zoom_api, zoom_api.api_url) as client:
        yield client


@pytest.fixture
def zoom_token(zoom_api: ZoomApi) -> str:
    """Mint a fresh access token for the credentials of `zoom_api`."""
    credentials = zoom_api.credentials
    with _http_client(zoom_api) as client:
        response = client.post(
            zoom_api.token_url,
            auth=(credentials.client_id, credentials.client_secret),
            data={"grant_type": "account_credentials", "account_id": credentials.account_id},
        )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _http_client(zoom_api: ZoomApi, base_url: str = "") -> httpx.Client:
    # An in-process transport is shared by the session, so clients must not close it.
    transport = _Unclosed(zoom_api.transport) if zoom_api.transport is not None else None
    return httpx.Client(base_url=base_url, transport=transport, timeout=10.0)


class _Unclosed(httpx.BaseTransport):
    def __init__(self, transport: httpx.BaseTransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._transport.handle_request(request)


def _real_zoom() -> ZoomApi:
    missing = [name for name in _ZOOM_VARIABLES if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"--zoompac-target zoom needs {', '.join(missing)} in the environment.", pytrace=False
        )
    credentials = Credentials(*(os.environ[name] for name in _ZOOM_VARIABLES))
    return ZoomApi(
        "zoom",
        os.environ.get("ZOOM_BASE_URL", DEFAULT_BASE_URL),
        os.environ.get("ZOOM_TOKEN_URL", DEFAULT_TOKEN_URL),
        credentials,
    )
