"""Real PostgreSQL and Redis servers on loopback, owned by the test session.

The binaries come from Debian's packages, which the test command installs. PostgreSQL refuses
to run as root, so when the tests run as root it runs as the `postgres` system user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postgres_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not versions:
        raise RuntimeError("PostgreSQL is not installed: run scripts/test, which installs it.")
    return versions[-1].parent


def _world_readable_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="zoompac-postgres-"))
    folder.chmod(0o755)
    return folder


def _as_postgres_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in a new folder under the system's temporary folder.

    pytest's temporary folders are readable by their owner only, which the `postgres` user
    is not, so the cluster lives in a folder of its own.
    """

    data_dir: Path = field(default_factory=lambda: _world_readable_folder() / "data")
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> PostgresServer:
        binaries = _postgres_bin()
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.data_dir, "postgres", "postgres")
            subprocess.run(
                _as_postgres_user(
                    [
                        str(binaries / "initdb"),
                        "-D",
                        str(self.data_dir),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--locale=C.UTF-8",
                    ]
                ),
                check=True,
                capture_output=True,
            )
        self.port = self.port or free_port()
        command = [
            str(binaries / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-h",
            "127.0.0.1",
            "-k",
            str(self.data_dir),
            "-c",
            "fsync=off",
            "-c",
            "max_connections=300",
        ]
        with (self.data_dir.parent / f"{self.data_dir.name}.log").open("ab") as log:
            self.process = subprocess.Popen(_as_postgres_user(command), stdout=log, stderr=log)
        self._wait_until_ready()
        return self

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def stop(self) -> None:
        """Stop the cluster with `pg_ctl stop -m fast` and wait for the postmaster to exit.

        Signalling the process would reach only the `runuser` wrapper when the tests run as
        root, and `runuser` does not pass SIGINT on.
        """
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        pg_ctl = str(_postgres_bin() / "pg_ctl")
        subprocess.run(
            _as_postgres_user([pg_ctl, "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]),
            check=True,
            capture_output=True,
        )
        self.process.wait(timeout=30)
        self.process = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                psycopg.connect(self.url(), connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not start on port {self.port}")


@dataclass
class RedisServer:
    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        self.port = self.port or free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.data_dir),
        ]
        with (self.data_dir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_timeout=1).ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"Redis did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=5)
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"
