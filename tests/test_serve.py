"""`zoompac serve` settings, start-up output and start-up errors, on real processes."""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import ServerProcess
from tests.services import free_port

PAC_USER = "pac.user@example.com"
PAC_BODY = {
    "pac_accounts": [
        {
            "dedicated_dial_in_number": [{"number": "123343434", "country": "USA"}],
            "global_dial_in_numbers": [{"number": "434343434", "country": "USA"}],
            "conference_id": "111111",
            "participant_password": "ghdf",
            "listen_only_password": "hkgk",
        }
    ]
}
BANNER_PORT = re.compile(r"Zoom API emulator at http://127\.0\.0\.1:(\d+)/v2 ")
DEMO_WARNING = "The demo credentials (demo-client / demo-secret) are public"


@dataclass
class BareServer(ServerProcess):
    """A `zoompac serve` process whose command line contains only `args` and whose env is `env`.

    The caller picks `port` and passes it by option or by `ZOOMPAC_PORT`, and readiness is
    awaited on that port.
    """

    def start(self, timeout: float = 30.0) -> BareServer:
        self.log_path = self.data_dir / f"server-{self.port}.log"
        command = [sys.executable, "-m", "zoompac", "serve", *self.args]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=self.env
            )
        if self.port == 0:
            self.port = self._port_from_banner(timeout)
        self._wait_until_ready(timeout)
        return self

    def _port_from_banner(self, timeout: float) -> int:
        """Read the port that a server started with port 0 prints in its start-up output."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = BANNER_PORT.search(self.log())
            if found:
                return int(found.group(1))
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"zoompac serve printed no address within {timeout} s:\n{self.log()}")


BareServerFactory = Callable[..., BareServer]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh HOME, so that a server without --database never writes to the real one."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def serve_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Copy the environment without ZOOMPAC_* and XDG_DATA_HOME, set HOME, then add `extra`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ZOOMPAC_") and name != "XDG_DATA_HOME"
    }
    return {**env, "HOME": str(home), **(extra or {})}


@pytest.fixture
def bare_server(tmp_path: Path, home: Path) -> Iterator[BareServerFactory]:
    started: list[BareServer] = []

    def start(*args: str, port: int, env: dict[str, str] | None = None) -> BareServer:
        server = BareServer(tmp_path, args=list(args), env=serve_env(home, env), port=port)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def run_serve(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `zoompac serve ARGS` for a start-up that is expected to fail, and wait for its exit."""
    return subprocess.run(
        [sys.executable, "-m", "zoompac", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=serve_env(home, env),
    )


def token_response(server: ServerProcess) -> dict[str, Any]:
    response = httpx.post(
        server.token_url,
        auth=("demo-client", "demo-secret"),
        data={"grant_type": "account_credentials", "account_id": "demo-account"},
        timeout=30,
    )
    response.raise_for_status()
    return dict(response.json())


def pac_body(server: ServerProcess) -> Any:
    token = token_response(server)["access_token"]
    response = httpx.get(
        f"{server.api_url}/users/{PAC_USER}/pac",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return response.json()


def account_ids(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT id FROM accounts")]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_env_port(bare_server: BareServerFactory, tmp_path: Path) -> None:
    port = free_port()
    env = {"ZOOMPAC_PORT": str(port), "ZOOMPAC_DATABASE": sqlite_url(tmp_path / "z.db")}
    server = bare_server("--demo", port=port, env=env)
    assert pac_body(server) == PAC_BODY


def test_env_port_in_banner(bare_server: BareServerFactory, tmp_path: Path) -> None:
    port = free_port()
    env = {"ZOOMPAC_PORT": str(port), "ZOOMPAC_DATABASE": sqlite_url(tmp_path / "z.db")}
    server = bare_server(port=port, env=env)
    assert f"Zoom API emulator at http://127.0.0.1:{port}/v2" in server.log()


def test_option_port_beats_env(bare_server: BareServerFactory, tmp_path: Path) -> None:
    port = free_port()
    env = {"ZOOMPAC_PORT": str(free_port()), "ZOOMPAC_DATABASE": sqlite_url(tmp_path / "z.db")}
    server = bare_server("--demo", "--port", str(port), port=port, env=env)
    assert pac_body(server) == PAC_BODY


def test_port_zero_banner(bare_server: BareServerFactory, tmp_path: Path) -> None:
    # The banner must print the port that the system picked, or the printed commands fail.
    database = sqlite_url(tmp_path / "z.db")
    server = bare_server("--demo", "--port", "0", "--database", database, port=0)
    assert pac_body(server) == PAC_BODY


def test_env_database(bare_server: BareServerFactory, tmp_path: Path) -> None:
    database = tmp_path / "from-env.db"
    port = free_port()
    bare_server(
        "--demo", "--port", str(port), port=port, env={"ZOOMPAC_DATABASE": sqlite_url(database)}
    )
    assert account_ids(database) == ["demo-account"]


def test_option_database_beats_env(bare_server: BareServerFactory, tmp_path: Path) -> None:
    from_env = tmp_path / "from-env.db"
    from_option = tmp_path / "from-option.db"
    port = free_port()
    bare_server(
        "--demo",
        "--port",
        str(port),
        "--database",
        sqlite_url(from_option),
        port=port,
        env={"ZOOMPAC_DATABASE": sqlite_url(from_env)},
    )
    assert account_ids(from_option) == ["demo-account"]
    assert not from_env.exists()


@pytest.fixture
def default_database_server(bare_server: BareServerFactory) -> BareServer:
    port = free_port()
    return bare_server("--demo", "--port", str(port), port=port)


def test_default_database_file(default_database_server: BareServer, home: Path) -> None:
    database = home / ".local" / "share" / "zoompac" / "zoompac.db"
    assert account_ids(database) == ["demo-account"]


def test_default_database_banner(default_database_server: BareServer, home: Path) -> None:
    database = home / ".local" / "share" / "zoompac" / "zoompac.db"
    assert f"(database sqlite:///{database})" in default_database_server.log()


def test_default_database_serves(default_database_server: BareServer) -> None:
    assert pac_body(default_database_server) == PAC_BODY


def test_env_integer_conference_id(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("--demo", env={"ZOOMPAC_CONFERENCE_ID_FORMAT": "integer"})
    assert pac_body(server)["pac_accounts"][0]["conference_id"] == 111111


def test_option_format_beats_env(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(
        "--demo",
        "--conference-id-format",
        "string",
        env={"ZOOMPAC_CONFERENCE_ID_FORMAT": "integer"},
    )
    assert pac_body(server) == PAC_BODY


def test_option_integer_conference_id(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("--demo", "--conference-id-format", "integer")
    assert pac_body(server)["pac_accounts"][0]["conference_id"] == 111111


def test_env_token_lifetime(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server("--demo", env={"ZOOMPAC_TOKEN_LIFETIME": "120"})
    assert token_response(server)["expires_in"] == 120


def test_option_lifetime_beats_env(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(
        "--demo", "--token-lifetime", "300", env={"ZOOMPAC_TOKEN_LIFETIME": "120"}
    )
    assert token_response(server)["expires_in"] == 300


def test_server_does_without_cryptography(demo_server: ServerProcess, demo_token: str) -> None:
    # The test extra installs `cryptography`, which PyJWT would load for RSA and EC keys. That
    # costs about 7 MB per server process, and the server signs with HS512 only.
    response = httpx.get(
        f"{demo_server.api_url}/users/pac.user@example.com/pac",
        headers={"Authorization": f"Bearer {demo_token}"},
    )
    assert response.status_code == 200
    assert demo_server.process is not None
    mapped = Path(f"/proc/{demo_server.process.pid}/maps").read_text()
    assert "cryptography" not in mapped


def test_cli_import_keeps_cryptography() -> None:
    # Only a server process goes without `cryptography`. Importing the CLI leaves it usable.
    result = subprocess.run(
        [sys.executable, "-c", "import zoompac.cli.main, cryptography"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_default_token_lifetime(demo_server: ServerProcess) -> None:
    assert token_response(demo_server)["expires_in"] == 3600


def test_env_demo(start_server: Callable[..., ServerProcess]) -> None:
    server = start_server(env={"ZOOMPAC_DEMO": "true"})
    assert pac_body(server) == PAC_BODY


def banner_commands(log: str) -> tuple[str, str]:
    """Return the token command and the PAC command that the start-up output prints."""
    lines = [line.strip() for line in log.splitlines()]
    [token_line] = [line for line in lines if line.startswith("TOKEN=$(curl ")]
    [pac_line] = [line for line in lines if line.startswith("curl ")]
    return token_line, pac_line


def test_banner_token_command(demo_server: ServerProcess) -> None:
    token_line, _ = banner_commands(demo_server.log())
    assert f"'{demo_server.token_url}?grant_type=account_credentials" in token_line


def test_banner_pac_command(demo_server: ServerProcess) -> None:
    _, pac_line = banner_commands(demo_server.log())
    assert pac_line.endswith(f" {demo_server.api_url}/users/{PAC_USER}/pac")


@pytest.fixture(scope="module")
def pasted_commands(demo_server: ServerProcess) -> subprocess.CompletedProcess[str]:
    """Run the two printed commands in bash, as a user pasting them would."""
    token_line, pac_line = banner_commands(demo_server.log())
    return subprocess.run(
        ["bash", "-c", f"{token_line}\n{pac_line}\n"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_pasted_commands_exit(pasted_commands: subprocess.CompletedProcess[str]) -> None:
    assert pasted_commands.returncode == 0, pasted_commands.stderr


def test_pasted_commands_body(pasted_commands: subprocess.CompletedProcess[str]) -> None:
    assert json.loads(pasted_commands.stdout) == PAC_BODY


def test_demo_warning_public_host(bare_server: BareServerFactory, tmp_path: Path) -> None:
    port = free_port()
    database = sqlite_url(tmp_path / "z.db")
    server = bare_server(
        "--demo", "--host", "0.0.0.0", "--port", str(port), "--database", database, port=port
    )
    assert DEMO_WARNING in server.log()


def test_no_demo_warning_loopback(demo_server: ServerProcess) -> None:
    assert DEMO_WARNING not in demo_server.log()


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    """A loopback port on which this test process listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield int(listener.getsockname()[1])


@pytest.fixture(scope="module")
def busy_port_run(
    tmp_path_factory: pytest.TempPathFactory, busy_port: int
) -> subprocess.CompletedProcess[str]:
    folder = tmp_path_factory.mktemp("busy-port")
    database = sqlite_url(folder / "z.db")
    return run_serve(folder, "--demo", "--port", str(busy_port), "--database", database)


def test_busy_port_exit_status(busy_port_run: subprocess.CompletedProcess[str]) -> None:
    assert busy_port_run.returncode != 0, busy_port_run.stderr


def test_busy_port_message(busy_port_run: subprocess.CompletedProcess[str], busy_port: int) -> None:
    expected = f"Cannot listen on 127.0.0.1:{busy_port}: Address already in use."
    assert expected in busy_port_run.stderr


def test_busy_port_no_traceback(busy_port_run: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in busy_port_run.stderr


# Each case passes a port (0 picks a free one), so that a wrongly accepted setting cannot take 8090.
INVALID_STARTS = {
    "format-option": (["--port", "0", "--conference-id-format", "float"], {}),
    "format-env": (["--port", "0"], {"ZOOMPAC_CONFERENCE_ID_FORMAT": "float"}),
    "lifetime-option": (["--port", "0", "--token-lifetime", "0"], {}),
    "lifetime-env": (["--port", "0"], {"ZOOMPAC_TOKEN_LIFETIME": "0"}),
    "port-option": (["--port", "70000"], {}),
    "port-env": ([], {"ZOOMPAC_PORT": "http"}),
}


@pytest.fixture(scope="module", params=sorted(INVALID_STARTS))
def invalid_start(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> subprocess.CompletedProcess[str]:
    args, env = INVALID_STARTS[request.param]
    folder = tmp_path_factory.mktemp(f"invalid-{request.param}")
    return run_serve(folder, *args, "--database", sqlite_url(folder / "z.db"), env=env)


def test_invalid_setting_exit_status(invalid_start: subprocess.CompletedProcess[str]) -> None:
    assert invalid_start.returncode == 2, invalid_start.stderr


def test_invalid_setting_usage(invalid_start: subprocess.CompletedProcess[str]) -> None:
    assert "Usage: " in invalid_start.stderr


def test_invalid_setting_no_traceback(invalid_start: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in invalid_start.stderr


def test_invalid_format_names_choices(home: Path, tmp_path: Path) -> None:
    database = sqlite_url(tmp_path / "z.db")
    result = run_serve(
        home, "--port", "0", "--conference-id-format", "float", "--database", database
    )
    assert "'float' is not one of 'string', 'integer'" in result.stderr


def test_invalid_database_url(home: Path) -> None:
    result = run_serve(home, "--port", "0", "--database", "not a url")
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr
