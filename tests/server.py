"""Start and stop real `zoompac serve` processes on free loopback ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.backends import shared_backend
from tests.services import free_port as free_port

PORT_ATTEMPTS = 3
DEMO_ACCOUNT = "demo-account"
DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"


@dataclass
class ServerProcess:
    """A `zoompac serve` child process over a SQLite file in `data_dir`."""

    data_dir: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def database_url(self) -> str:
        """The server's database: a SQLite file, or a PostgreSQL database on the PostgreSQL run."""
        backend = shared_backend()
        if backend is not None:
            return backend.database_for(self.data_dir)
        return f"sqlite:///{self.data_dir / 'zoompac.db'}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v2"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth/token"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        # Parallel test workers may pick the same free port between probe and bind; try again.
        for _ in range(PORT_ATTEMPTS - 1):
            try:
                return self._start_once(timeout)
            except RuntimeError:
                if "Cannot listen on" not in self.log():
                    raise
        return self._start_once(timeout)

    def _start_once(self, timeout: float) -> ServerProcess:
        self.port = free_port()
        self.log_path = self.data_dir / f"server-{self.port}.log"
        command = [
            sys.executable,
            "-m",
            "zoompac",
            "serve",
            "--port",
            str(self.port),
            "--database",
            self.database_url,
            *self.args,
        ]
        env = {**os.environ, **self.env}
        backend = shared_backend()
        if backend is not None:
            # Servers over one data folder share counters, as workers of one deployment do.
            env.setdefault("ZOOMPAC_REDIS", backend.redis.url)
            env.setdefault("ZOOMPAC_REDIS_PREFIX", backend.prefix_for(self.data_dir))
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        self._wait_until_ready(timeout)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def token(
        self,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        account_id: str = DEMO_ACCOUNT,
    ) -> str:
        response = httpx.post(
            self.token_url,
            auth=(client_id, client_secret),
            data={"grant_type": "account_credentials", "account_id": account_id},
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def _wait_until_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"zoompac serve exited early:\n{self.log()}")
            try:
                probe = httpx.get(f"{self.base_url}/v2/users/me/pac", timeout=1.0)
            except httpx.TransportError:
                time.sleep(0.05)
                continue
            # Parallel tests may hold the port for a moment. Only a response from zoompac counts,
            # once this process has printed the banner that follows binding the port.
            bound = f":{self.port}/v2 (database" in self.log()
            if bound and "x-zm-trackingid" in probe.headers:
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"zoompac serve did not start within {timeout} s:\n{self.log()}")
