"""`ZoompacServer`: a real zoompac HTTP server in a background thread of the current process."""

from __future__ import annotations

import secrets
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from zoompac.client import Credentials
from zoompac.settings import Settings
from zoompac.testing._control import ControlPlane
from zoompac.testing._transport import InProcessTransport
from zoompac.web.app import create_app
from zoompac.web.protocol import uvicorn_options
from zoompac.web.runtime import Runtime
from zoompac.web.startup import prepare_runtime

DEMO_CREDENTIALS = Credentials("demo-account", "demo-client", "demo-secret")


class ZoompacServer:
    """Serve zoompac on a free loopback port from a background thread.

    The server starts with the demo data and every `fixtures` file, over a SQLite file in a
    temporary folder unless `database` is given. `settings` takes any `zoompac serve` setting,
    for example `rate_limits=False` or `token_lifetime=5`.

    >>> with ZoompacServer() as server:
    ...     server.control.reset()
    """

    def __init__(
        self,
        *,
        database: str | None = None,
        fixtures: list[Path] | None = None,
        demo: bool = True,
        **settings: Any,
    ) -> None:
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        if database is None:
            self._folder = tempfile.TemporaryDirectory(prefix="zoompac-")
            database = f"sqlite:///{Path(self._folder.name) / 'zoompac.db'}"
        self.admin_token = secrets.token_urlsafe(24)
        self._socket = _listen_on_free_port()
        port = self._socket.getsockname()[1]
        self.settings = Settings(
            host="127.0.0.1",
            port=port,
            database=database,
            demo=demo,
            control_plane=True,
            admin_token=self.admin_token,
            **settings,
        )
        self._fixtures = list(fixtures or [])
        self.runtime: Runtime | None = None
        self.app: ASGIApp | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._control_http: httpx.Client | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v2"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth/token"

    @property
    def control(self) -> ControlPlane:
        if self._control_http is None:
            raise RuntimeError("Start the server before using its control plane.")
        return ControlPlane(self._control_http)

    def start(self, timeout: float = 30.0) -> ZoompacServer:
        self.runtime = prepare_runtime(self.settings, self._fixtures)
        self.app = create_app(self.runtime, self.admin_token)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            **uvicorn_options(),
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"zoompac did not start on {self.base_url}")
            time.sleep(0.01)
        self._control_http = httpx.Client(
            base_url=f"{self.base_url}/zoompac",
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=10.0,
        )
        return self

    def stop(self) -> None:
        if self._control_http is not None:
            self._control_http.close()
            self._control_http = None
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._socket.close()
        if self.runtime is not None:
            self.runtime.engine.dispose()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def in_process_transport(self) -> InProcessTransport:
        """Return an httpx transport that calls the ASGI app directly, over this server's state."""
        if self.app is None:
            raise RuntimeError("Start the server before asking for an in-process transport.")
        return InProcessTransport(self.app)

    def __enter__(self) -> ZoompacServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def _listen_on_free_port() -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    return listener
