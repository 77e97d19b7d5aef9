"""`zoompac pac list` as a child process against a demo server."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.server import DEMO_ACCOUNT, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ServerProcess
from tests.services import free_port

MASK = "******"
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
MASKED_BODY = {
    "pac_accounts": [
        {**PAC_BODY["pac_accounts"][0], "participant_password": MASK, "listen_only_password": MASK}
    ]
}
CREDENTIAL_ENV = {
    "ZOOM_ACCOUNT_ID": DEMO_ACCOUNT,
    "ZOOM_CLIENT_ID": DEMO_CLIENT_ID,
    "ZOOM_CLIENT_SECRET": DEMO_CLIENT_SECRET,
}
BASIC_CREDENTIALS = base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
# Every access token the server issues is a JWT, and every JWT starts with this.
JWT_PREFIX = "eyJ"


def clean_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    """Copy the environment without ZOOM_*, ZOOMPAC_* and XDG_* variables, then add `extra`.

    HOME points at a test folder, so that no config file or token cache of the real user
    takes part, and none is written there.
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ZOOM_", "ZOOMPAC_", "XDG_"))
    }
    return {**env, "HOME": str(home), **extra}


@dataclass(frozen=True)
class PacCli:
    """A runner of `zoompac pac list` against `server`, with `home` as HOME."""

    server: ServerProcess
    home: Path

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `zoompac pac list ARGS`. `env` defaults to the demo credentials."""
        command = [
            sys.executable,
            "-m",
            "zoompac",
            "pac",
            "list",
            "--base-url",
            self.server.api_url,
            "--token-url",
            self.server.token_url,
            *args,
        ]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=clean_env(self.home, CREDENTIAL_ENV if env is None else env),
        )


@pytest.fixture(scope="module")
def cli(demo_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> PacCli:
    return PacCli(demo_server, tmp_path_factory.mktemp("cli-home"))


def table_rows(output: str) -> list[list[str]]:
    """Return the cells of each body row of a rich table, which are the lines starting with `│`."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in output.splitlines()
        if line.startswith("│")
    ]


def error_lines(stderr: str) -> list[str]:
    return stderr.rstrip("\n").splitlines()


@pytest.fixture(scope="module")
def pac_user_run(cli: PacCli) -> subprocess.CompletedProcess[str]:
    return cli.run(PAC_USER)


def test_json_exit_code(pac_user_run: subprocess.CompletedProcess[str]) -> None:
    assert pac_user_run.returncode == 0, pac_user_run.stderr


def test_json_masks_passwords(pac_user_run: subprocess.CompletedProcess[str]) -> None:
    assert json.loads(pac_user_run.stdout) == MASKED_BODY


def test_json_status_line(pac_user_run: subprocess.CompletedProcess[str]) -> None:
    assert error_lines(pac_user_run.stderr) == ["Response status code: 200"]


def test_json_show_passwords(cli: PacCli) -> None:
    result = cli.run(PAC_USER, "--show-passwords")
    assert json.loads(result.stdout) == PAC_BODY


def test_json_user_id(cli: PacCli) -> None:
    result = cli.run("pYqg5uJ8QjWkS3d0lX7n2A")
    assert json.loads(result.stdout) == MASKED_BODY


def test_json_no_pac_accounts(cli: PacCli) -> None:
    result = cli.run("empty.user@example.com")
    assert json.loads(result.stdout) == {"pac_accounts": []}


def test_table_exit_code(cli: PacCli) -> None:
    result = cli.run(PAC_USER, "--output", "table")
    assert result.returncode == 0, result.stderr


def test_table_masked_rows(cli: PacCli) -> None:
    result = cli.run(PAC_USER, "--output", "table")
    assert table_rows(result.stdout) == [
        ["111111", MASK, MASK, "dedicated", "123343434", "USA"],
        ["111111", MASK, MASK, "global", "434343434", "USA"],
    ]


def test_table_rows_with_passwords(cli: PacCli) -> None:
    result = cli.run(PAC_USER, "--output", "table", "--show-passwords")
    assert table_rows(result.stdout) == [
        ["111111", "ghdf", "hkgk", "dedicated", "123343434", "USA"],
        ["111111", "ghdf", "hkgk", "global", "434343434", "USA"],
    ]


def test_table_no_pac_accounts(cli: PacCli) -> None:
    result = cli.run("empty.user@example.com", "--output", "table")
    assert table_rows(result.stdout) == []


def test_options_give_credentials(cli: PacCli) -> None:
    result = cli.run(
        PAC_USER,
        "--account-id",
        DEMO_ACCOUNT,
        "--client-id",
        DEMO_CLIENT_ID,
        "--client-secret",
        DEMO_CLIENT_SECRET,
        env={},
    )
    assert json.loads(result.stdout) == MASKED_BODY


def test_env_gives_token(cli: PacCli, demo_token: str) -> None:
    result = cli.run(PAC_USER, env={"ZOOM_ACCESS_TOKEN": demo_token})
    assert json.loads(result.stdout) == MASKED_BODY


def test_token_option(cli: PacCli, demo_token: str) -> None:
    result = cli.run(PAC_USER, "--token", demo_token, env={})
    assert json.loads(result.stdout) == MASKED_BODY


ApiError = tuple[subprocess.CompletedProcess[str], int, dict[str, Any]]

API_ERRORS = {
    "user-without-pac": (
        ["nopac.user@example.com"],
        400,
        {"code": 2024, "message": "User does not have PAC enabled."},
    ),
    "unknown-user": (
        ["nobody@example.com"],
        404,
        {"code": 1001, "message": "User does not exist: nobody@example.com."},
    ),
    "garbage-token": (
        [PAC_USER, "--token", "garbage"],
        401,
        {"code": 124, "message": "Invalid access token."},
    ),
}


@pytest.fixture(scope="module", params=sorted(API_ERRORS))
def api_error(request: pytest.FixtureRequest, cli: PacCli) -> ApiError:
    args, status, body = API_ERRORS[request.param]
    return cli.run(*args), status, body


def test_error_exit_code(api_error: ApiError) -> None:
    result, _, _ = api_error
    assert result.returncode == 1, result.stderr


def test_error_body_on_stdout(api_error: ApiError) -> None:
    result, _, body = api_error
    assert json.loads(result.stdout) == body


def test_error_status_line(api_error: ApiError) -> None:
    result, status, _ = api_error
    assert f"Response status code: {status}" in error_lines(result.stderr)


def test_error_headers_heading(api_error: ApiError) -> None:
    result, _, _ = api_error
    assert "Response headers:" in error_lines(result.stderr)


def test_error_tracking_id(api_error: ApiError) -> None:
    result, _, _ = api_error
    assert re.search(r"^  x-zm-trackingid: \S+$", result.stderr, re.MULTILINE), result.stderr


def test_error_content_type(api_error: ApiError) -> None:
    result, _, _ = api_error
    assert "  content-type: application/json" in error_lines(result.stderr)


def test_error_zoom_code(api_error: ApiError) -> None:
    result, _, body = api_error
    assert f"Zoom error code: {body['code']}" in error_lines(result.stderr)


def test_error_message(api_error: ApiError) -> None:
    result, _, body = api_error
    assert f"Message: {body['message']}" in error_lines(result.stderr)


def test_error_http_status(api_error: ApiError) -> None:
    result, status, _ = api_error
    assert f"The API returned HTTP {status}." in error_lines(result.stderr)


def test_error_ends_failed(api_error: ApiError) -> None:
    result, _, _ = api_error
    assert error_lines(result.stderr)[-1] == "Failed."


WRONG_SECRET = "wrong-secret-5f2c"


@pytest.fixture(scope="module")
def bad_secret_run(
    demo_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> subprocess.CompletedProcess[str]:
    """Run with a wrong secret and an empty token cache."""
    env = {**CREDENTIAL_ENV, "ZOOM_CLIENT_SECRET": WRONG_SECRET}
    cli = PacCli(demo_server, tmp_path_factory.mktemp("bad-secret-home"))
    return cli.run(PAC_USER, env=env)


def test_bad_secret_exit_code(bad_secret_run: subprocess.CompletedProcess[str]) -> None:
    assert bad_secret_run.returncode == 1, bad_secret_run.stderr


def test_bad_secret_oauth_body(bad_secret_run: subprocess.CompletedProcess[str]) -> None:
    assert json.loads(bad_secret_run.stdout)["error"] == "invalid_client"


def test_bad_secret_oauth_error(bad_secret_run: subprocess.CompletedProcess[str]) -> None:
    assert "OAuth error: invalid_client" in error_lines(bad_secret_run.stderr)


def test_bad_secret_reason(bad_secret_run: subprocess.CompletedProcess[str]) -> None:
    reason = json.loads(bad_secret_run.stdout)["reason"]
    assert f"Reason: {reason}" in error_lines(bad_secret_run.stderr)


def test_bad_secret_summary(bad_secret_run: subprocess.CompletedProcess[str]) -> None:
    assert "The token endpoint returned HTTP 400." in error_lines(bad_secret_run.stderr)


def test_bad_secret_ends_failed(bad_secret_run: subprocess.CompletedProcess[str]) -> None:
    assert error_lines(bad_secret_run.stderr)[-1] == "Failed."


def test_bad_secret_not_printed(bad_secret_run: subprocess.CompletedProcess[str]) -> None:
    assert WRONG_SECRET not in bad_secret_run.stdout + bad_secret_run.stderr


def test_bad_secret_despite_cache(demo_server: ServerProcess, tmp_path: Path) -> None:
    # A token cached by a run with the right secret must not let a wrong secret pass.
    cli = PacCli(demo_server, tmp_path)
    cli.run(PAC_USER)
    result = cli.run(PAC_USER, env={**CREDENTIAL_ENV, "ZOOM_CLIENT_SECRET": WRONG_SECRET})
    assert result.returncode == 1, result.stdout
    assert "OAuth error: invalid_client" in error_lines(result.stderr)


@pytest.mark.parametrize(
    ("unset", "option"),
    [
        ("ZOOM_ACCOUNT_ID", "--account-id"),
        ("ZOOM_CLIENT_ID", "--client-id"),
        ("ZOOM_CLIENT_SECRET", "--client-secret"),
    ],
)
def test_missing_credential(cli: PacCli, unset: str, option: str) -> None:
    env = {name: value for name, value in CREDENTIAL_ENV.items() if name != unset}
    result = cli.run(PAC_USER, env=env)
    assert result.returncode == 2, result.stderr
    assert f"Missing {option}." in result.stderr


def test_no_credentials_usage(cli: PacCli) -> None:
    result = cli.run(PAC_USER, env={})
    assert result.returncode == 2, result.stderr
    assert "Missing --account-id, --client-id, --client-secret." in result.stderr


def test_empty_token_usage(cli: PacCli) -> None:
    # An empty --token is no token, so without credentials it is a usage error, not a crash.
    result = cli.run(PAC_USER, "--token", "", env={})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_server(tmp_path: Path) -> None:
    # Nothing listens on a free port, so every connection is refused.
    stopped = ServerProcess(tmp_path, port=free_port())
    result = PacCli(stopped, tmp_path).run(PAC_USER)
    assert result.returncode == 1, result.stderr
    assert "Check --base-url and --token-url." in result.stderr
    assert "Traceback" not in result.stderr


LEAK_CASES = {
    "json": [PAC_USER],
    "table": [PAC_USER, "--output", "table", "--show-passwords"],
    "api-error": ["nopac.user@example.com"],
    "unknown-user": ["nobody@example.com"],
}


@pytest.fixture(scope="module", params=sorted(LEAK_CASES))
def credential_run(request: pytest.FixtureRequest, cli: PacCli) -> subprocess.CompletedProcess[str]:
    return cli.run(*LEAK_CASES[request.param])


def test_secret_not_printed(credential_run: subprocess.CompletedProcess[str]) -> None:
    assert DEMO_CLIENT_SECRET not in credential_run.stdout + credential_run.stderr


def test_basic_header_not_printed(credential_run: subprocess.CompletedProcess[str]) -> None:
    assert BASIC_CREDENTIALS not in credential_run.stdout + credential_run.stderr


def test_fetched_token_not_printed(credential_run: subprocess.CompletedProcess[str]) -> None:
    assert JWT_PREFIX not in credential_run.stdout + credential_run.stderr


@pytest.mark.parametrize("user", [PAC_USER, "nopac.user@example.com", "nobody@example.com"])
def test_given_token_not_printed(cli: PacCli, demo_token: str, user: str) -> None:
    result = cli.run(user, "--token", demo_token, env={})
    assert demo_token not in result.stdout + result.stderr


def test_user_sent_as_one_segment(cli: PacCli) -> None:
    # `/`, ` ` and `+` are percent-encoded, so the server receives the user id exactly as given.
    result = cli.run("a/b c+d@example.com")
    assert json.loads(result.stdout) == {
        "code": 1001,
        "message": "User does not exist: a/b c+d@example.com.",
    }


def test_secret_not_in_home(demo_server: ServerProcess, tmp_path: Path) -> None:
    # The token cache under HOME may contain tokens, but never the client secret.
    PacCli(demo_server, tmp_path).run(PAC_USER)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert DEMO_CLIENT_SECRET.encode() not in path.read_bytes(), path
