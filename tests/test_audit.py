"""The PAC audit, in-process through `audit_pac_accounts` and as `zoompac pac audit` processes,
against real zoompac servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import os
import pty
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.client_accounts import (
    ACCOUNT,
    CLIENT_ID,
    CSV_HEADER,
    SCOPES,
    SECRET,
    audit_command,
    clean_env,
    document,
    expected_csv_rows,
    pac_status,
    run_audit,
    start_loaded,
    user_entries,
)
from tests.server import ServerProcess
from zoompac.client import (
    AsyncClient,
    AuditOutcome,
    AuditResult,
    RetryEvent,
    RetryPolicy,
    ServerToServerAuth,
    audit_pac_accounts,
)

PENDING_USER = {"id": "pend0001", "email": "New.Hire+pac/ops@example.com", "status": "pending"}
OFF_ACCOUNT = "audit-pac-off"
OFF_APP = "audit-pac-off-admin"


@dataclass
class Recorder:
    """The requests and responses of an in-process audit, from httpx event hooks and `on_retry`."""

    tokens: int = 0
    pac_sends: list[float] = field(default_factory=list)
    pac_statuses: list[int] = field(default_factory=list)
    retries: list[RetryEvent] = field(default_factory=list)

    async def on_request(self, request: httpx.Request) -> None:
        if request.url.path.endswith("/oauth/token"):
            self.tokens += 1
        elif request.url.path.endswith("/pac"):
            self.pac_sends.append(time.monotonic())

    async def on_response(self, response: httpx.Response) -> None:
        if response.request.url.path.endswith("/pac"):
            self.pac_statuses.append(response.status_code)


def audit_in_process(
    server: ServerProcess,
    recorder: Recorder,
    *,
    clock: Callable[[], datetime] | None = None,
    retry: RetryPolicy | None = None,
    concurrency: int = 8,
) -> AuditResult:
    async def run() -> AuditResult:
        auth = ServerToServerAuth(ACCOUNT, CLIENT_ID, SECRET, token_url=server.token_url)
        hooks: dict[str, list[Callable[..., Any]]] = {
            "request": [recorder.on_request],
            "response": [recorder.on_response],
        }
        options: dict[str, Any] = {"clock": clock} if clock else {}
        client = AsyncClient(
            auth,
            base_url=server.api_url,
            event_hooks=hooks,
            retry=retry,
            on_retry=recorder.retries.append,
            **options,
        )
        async with client:
            return await audit_pac_accounts(client, concurrency=concurrency)

    return asyncio.run(run())


def outcomes(result: AuditResult) -> dict[str, str]:
    return {record.user.email: record.outcome.value for record in result.records}


def expected_outcomes(users: list[dict[str, Any]]) -> dict[str, str]:
    return {user["email"]: pac_status(user) for user in users}


# A token that lives two seconds, during an audit of 300 users


SHORT_LIFETIME = 2.0


@pytest.fixture(scope="module")
def short_tokens(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, Recorder, float]:
    server = start_loaded(
        tmp_path_factory.mktemp("short-tokens"),
        document(user_entries(300)),
        "--token-lifetime",
        str(int(SHORT_LIFETIME)),
        "--rate-limit",
        "pro.light=60",
    )
    recorder = Recorder()
    try:
        started = time.monotonic()
        result = audit_in_process(server, recorder)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    return result, recorder, elapsed


def test_short_tokens_no_failures(short_tokens: tuple[AuditResult, Recorder, float]) -> None:
    assert short_tokens[0].failures == []


def test_short_tokens_every_user(short_tokens: tuple[AuditResult, Recorder, float]) -> None:
    assert outcomes(short_tokens[0]) == expected_outcomes(user_entries(300))


def test_short_tokens_renewed(short_tokens: tuple[AuditResult, Recorder, float]) -> None:
    # The run outlives several tokens, so the client had to renew them.
    assert short_tokens[1].tokens >= 2


def test_short_tokens_fetched_only_when_needed(
    short_tokens: tuple[AuditResult, Recorder, float],
) -> None:
    # Each token is renewed in the last quarter of its life, so one serves 1.5 s of the run.
    # More fetches than that, plus the first, would be tokens fetched for nothing.
    _, recorder, elapsed = short_tokens
    assert recorder.tokens <= elapsed / (SHORT_LIFETIME * 0.75) + 2


# "A new token revokes the older ones", with 8 audit processes sharing the token cache


PARALLEL_RUNS = 8
PARALLEL_USERS = 60


@pytest.fixture(scope="module")
def parallel_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> list[subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("parallel")
    server = start_loaded(
        folder / "server",
        document(user_entries(PARALLEL_USERS)),
        "--revoke-older-tokens",
        "--token-lifetime",
        "2",
        "--no-rate-limits",
    )
    cache = folder / "tokens"
    args = ["--token-cache-dir", str(cache), "--format", "jsonl", "--concurrency", "2"]
    env = clean_env(folder / "home")
    try:
        processes = [
            subprocess.Popen(
                audit_command(server, *credential_args(), *args),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for _ in range(PARALLEL_RUNS)
        ]
        runs = []
        for process in processes:
            stdout, stderr = process.communicate(timeout=240)
            runs.append(
                subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
            )
    finally:
        server.stop()
    return runs


def credential_args() -> list[str]:
    return ["--account-id", ACCOUNT, "--client-id", CLIENT_ID, "--client-secret", SECRET]


def test_parallel_runs_succeed(parallel_runs: list[subprocess.CompletedProcess[str]]) -> None:
    assert [run.returncode for run in parallel_runs] == [0] * PARALLEL_RUNS, parallel_runs[0].stderr


def test_parallel_runs_complete(parallel_runs: list[subprocess.CompletedProcess[str]]) -> None:
    counts = [len(run.stdout.splitlines()) for run in parallel_runs]
    assert counts == [PARALLEL_USERS] * PARALLEL_RUNS


def test_parallel_runs_no_failures(parallel_runs: list[subprocess.CompletedProcess[str]]) -> None:
    failed = [
        line
        for run in parallel_runs
        for line in run.stdout.splitlines()
        if json.loads(line)["pac_status"] == "failed"
    ]
    assert failed == []


# A Light limit of 2 requests per second on a 40-user audit


SLOW_USERS = user_entries(40)


@pytest.fixture(scope="module")
def slow_audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditResult, Recorder]:
    server = start_loaded(
        tmp_path_factory.mktemp("two-per-second"),
        document(SLOW_USERS),
        "--rate-limit",
        "pro.light=2",
    )
    recorder = Recorder()
    try:
        result = audit_in_process(server, recorder, concurrency=8)
    finally:
        server.stop()
    return result, recorder


def test_slow_audit_every_user(slow_audit: tuple[AuditResult, Recorder]) -> None:
    assert outcomes(slow_audit[0]) == expected_outcomes(SLOW_USERS)


def test_slow_audit_no_failures(slow_audit: tuple[AuditResult, Recorder]) -> None:
    assert slow_audit[0].failures == []


def test_slow_audit_paced(slow_audit: tuple[AuditResult, Recorder]) -> None:
    # The first eight calls go out together, before any response has reported the limit. Every
    # later one waits for its slot, 0.53 s apart at 95 % of 2/s, so three of them span about
    # 1.05 s. Thread wake-ups on a busy machine move single sends by up to about 0.15 s, so the
    # typical span is checked against the pace and the shortest one only against a burst: an
    # unpaced client sends them milliseconds apart.
    sends = slow_audit[1].pac_sends[8:]
    spans = [later - earlier for earlier, later in zip(sends, sends[2:], strict=False)]
    assert statistics.median(spans) >= 1.0
    assert min(spans) >= 0.5


def test_slow_audit_rejected_burst_retried(slow_audit: tuple[AuditResult, Recorder]) -> None:
    rate_limited = [e for e in slow_audit[1].retries if e.reason == "rate_limited"]
    assert len(rate_limited) >= 1


def test_slow_audit_waits_honour_retry_after(slow_audit: tuple[AuditResult, Recorder]) -> None:
    waits = [e.wait for e in slow_audit[1].retries if e.reason == "rate_limited"]
    assert min(waits) >= 1.0


def test_slow_audit_waits_jittered(slow_audit: tuple[AuditResult, Recorder]) -> None:
    waits = [e.wait for e in slow_audit[1].retries if e.reason == "rate_limited"]
    assert len(set(waits)) == len(waits) > 1


# The Free plan's daily limit, reached just before midnight


DAILY_USERS = user_entries(8)


def server_clock(server: ServerProcess) -> Callable[[], datetime]:
    """Return a clock that reads the server's time, which --clock-start moved. The `iat` claim
    of a fresh token contains the server's time."""
    token = server.token(CLIENT_ID, SECRET, ACCOUNT)
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    offset = datetime.fromtimestamp(claims["iat"], UTC) - datetime.now(UTC)
    return lambda: datetime.now(UTC) + offset


@pytest.fixture(scope="module", params=["UTC", "America/New_York"])
def daily_audit(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[AuditResult, Recorder]:
    """An audit that meets the daily limit seconds before midnight, run with the process's local
    time zone set to each zone in turn."""
    server = start_loaded(
        tmp_path_factory.mktemp("daily"),
        document(DAILY_USERS, plan="free"),
        "--rate-limit",
        "free.light.daily=5",
        "--clock-start",
        "2031-03-01T23:59:54Z",
    )
    recorder = Recorder()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TZ", request.param)
            time.tzset()
            result = audit_in_process(
                server, recorder, clock=server_clock(server), retry=RetryPolicy(max_wait=60)
            )
    finally:
        time.tzset()
        server.stop()
    return result, recorder


def test_daily_limit_waited_for(daily_audit: tuple[AuditResult, Recorder]) -> None:
    # The sixth call meets the daily limit and waits for the reset at midnight, UTC. The Free
    # plan offers no PAC, which is the status every user then gets.
    assert set(outcomes(daily_audit[0]).values()) == {"account_pac_disabled"}


def test_daily_limit_rejected_first(daily_audit: tuple[AuditResult, Recorder]) -> None:
    assert 429 in daily_audit[1].pac_statuses


@pytest.fixture(scope="module", params=["UTC", "America/New_York"])
def daily_cap_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> subprocess.CompletedProcess[str]:
    folder = tmp_path_factory.mktemp("daily-cap")
    server = start_loaded(
        folder / "server",
        document(user_entries(6), plan="free"),
        "--rate-limit",
        "free.light.daily=3",
        "--clock-start",
        "2031-03-01T12:00:00Z",
    )
    try:
        return run_audit(server, folder, "--max-wait", "5", env={"TZ": request.param})
    finally:
        server.stop()


def test_daily_cap_exit_status(daily_cap_run: subprocess.CompletedProcess[str]) -> None:
    assert daily_cap_run.returncode == 1, daily_cap_run.stderr


def test_daily_cap_names_reset(daily_cap_run: subprocess.CompletedProcess[str]) -> None:
    assert "until 2031-03-02T00:00:00Z" in daily_cap_run.stderr


def test_daily_cap_names_cap(daily_cap_run: subprocess.CompletedProcess[str]) -> None:
    assert "RetryPolicy.max_wait" in daily_cap_run.stderr


def test_daily_cap_stops_early(daily_cap_run: subprocess.CompletedProcess[str]) -> None:
    assert "Stopped early:" in daily_cap_run.stderr


def test_daily_cap_keeps_fetched(daily_cap_run: subprocess.CompletedProcess[str]) -> None:
    users = json.loads(daily_cap_run.stdout)["users"]
    fetched = [user["email"] for user in users if user["pac_status"] != "failed"]
    assert len(fetched) == 3


def test_daily_cap_lists_all(daily_cap_run: subprocess.CompletedProcess[str]) -> None:
    assert len(json.loads(daily_cap_run.stdout)["users"]) == 6


# 2,000 users written as CSV


@pytest.fixture(scope="module")
def big_csv(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    folder = tmp_path_factory.mktemp("big")
    server = start_loaded(folder / "server", document(user_entries(2000)), "--no-rate-limits")
    output = folder / "audit.csv"
    try:
        run = run_audit(server, folder, "--format", "csv", "--output", str(output))
    finally:
        server.stop()
    return run, output


def test_big_csv_exit_status(big_csv: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    assert big_csv[0].returncode == 0, big_csv[0].stderr


def test_big_csv_header(big_csv: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    rows = list(csv.reader(io.StringIO(big_csv[1].read_text(encoding="utf-8"))))
    assert rows[0] == CSV_HEADER


def test_big_csv_rows(big_csv: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    rows = list(csv.reader(io.StringIO(big_csv[1].read_text(encoding="utf-8"))))
    assert sorted(rows[1:]) == sorted(expected_csv_rows(user_entries(2000)))


def test_big_csv_nothing_on_stdout(big_csv: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    assert big_csv[0].stdout == ""


# Output formats, on a small account


SMALL_USERS = user_entries(12)


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    fixture = document([*SMALL_USERS, PENDING_USER])
    fixture["accounts"].append(
        {
            "id": OFF_ACCOUNT,
            "pac_enabled": False,
            "apps": [{"client_id": OFF_APP, "client_secret": SECRET, "scopes": SCOPES}],
            "users": [{"id": "off00001", "email": "off@example.com"}],
        }
    )
    server = start_loaded(tmp_path_factory.mktemp("small"), fixture, "--no-rate-limits")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def json_run(small_server: ServerProcess, home: Path) -> subprocess.CompletedProcess[str]:
    return run_audit(small_server, home)


def test_json_exit_status(json_run: subprocess.CompletedProcess[str]) -> None:
    assert json_run.returncode == 0, json_run.stderr


def test_json_statuses(json_run: subprocess.CompletedProcess[str]) -> None:
    users = json.loads(json_run.stdout)["users"]
    assert {u["email"]: u["pac_status"] for u in users} == expected_outcomes(SMALL_USERS)


def test_json_summary(json_run: subprocess.CompletedProcess[str]) -> None:
    summary = json.loads(json_run.stdout)["summary"]
    assert (summary["users"], summary["failed"], summary["complete"]) == (12, 0, True)


def test_json_conference_id_integer(json_run: subprocess.CompletedProcess[str]) -> None:
    user = json.loads(json_run.stdout)["users"][2]
    assert user["pac_accounts"][0]["conference_id"] == 10000020


def test_json_masks_passwords(json_run: subprocess.CompletedProcess[str]) -> None:
    passwords = {
        account[key]
        for user in json.loads(json_run.stdout)["users"]
        for account in user["pac_accounts"]
        for key in ("participant_password", "listen_only_password")
    }
    assert passwords == {"******"}


def test_summary_on_stderr(json_run: subprocess.CompletedProcess[str]) -> None:
    assert json_run.stderr.splitlines()[-1] == (
        "Audited 12 active user(s): 6 with PAC accounts (12 PAC accounts), 3 without PAC "
        "accounts, 3 with PAC off, 0 in an account without PAC, 0 failed."
    )


def test_no_progress_when_piped(json_run: subprocess.CompletedProcess[str]) -> None:
    assert "Auditing" not in json_run.stderr


def test_no_secret_printed(json_run: subprocess.CompletedProcess[str]) -> None:
    assert SECRET not in json_run.stdout + json_run.stderr


def test_no_token_printed(json_run: subprocess.CompletedProcess[str]) -> None:
    # Every token the server issues is a JWT, and every JWT starts with this.
    assert "eyJ" not in json_run.stdout + json_run.stderr


def test_jsonl_one_user_a_line(small_server: ServerProcess, home: Path) -> None:
    run = run_audit(small_server, home, "--format", "jsonl")
    emails = [json.loads(line)["email"] for line in run.stdout.splitlines()]
    assert emails == [user["email"] for user in SMALL_USERS]


def test_csv_masked(small_server: ServerProcess, home: Path) -> None:
    run = run_audit(small_server, home, "--format", "csv")
    rows = list(csv.reader(io.StringIO(run.stdout)))
    assert rows[1:] == expected_csv_rows(SMALL_USERS)


def test_csv_show_passwords(small_server: ServerProcess, home: Path) -> None:
    run = run_audit(small_server, home, "--format", "csv", "--show-passwords")
    rows = list(csv.reader(io.StringIO(run.stdout)))
    assert rows[1:] == expected_csv_rows(SMALL_USERS, masked=False)


def test_pending_user_by_email(small_server: ServerProcess, home: Path) -> None:
    # Pending users have no id, so the audit names them by e-mail: `+`, `/` and upper case.
    run = run_audit(small_server, home, "--format", "jsonl", "--status", "pending")
    assert json.loads(run.stdout)["pac_status"] == "no_pac_accounts"


def test_account_without_pac(small_server: ServerProcess, home: Path) -> None:
    run = run_audit(
        small_server,
        home,
        "--format",
        "jsonl",
        "--account-id",
        OFF_ACCOUNT,
        "--client-id",
        OFF_APP,
        "--client-secret",
        SECRET,
        credentials=False,
    )
    assert json.loads(run.stdout)["pac_status"] == "account_pac_disabled"


def test_output_file_unwritable(small_server: ServerProcess, home: Path) -> None:
    run = run_audit(small_server, home, "--output", str(home / "missing" / "out.json"))
    assert "Choose another --output" in run.stderr


def test_progress_on_terminal(small_server: ServerProcess, home: Path) -> None:
    controller, terminal = pty.openpty()
    env = clean_env(home, {"TERM": "xterm", "COLUMNS": "100"})
    command = audit_command(small_server, *credential_args(), "--output", str(home / "p.json"))
    try:
        subprocess.run(
            command, stderr=terminal, stdout=subprocess.DEVNULL, env=env, timeout=120, check=False
        )
        os.close(terminal)
        shown = read_all(controller)
    finally:
        os.close(controller)
    assert "Auditing PAC accounts" in shown


def read_all(descriptor: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(descriptor, 65536)
        except OSError:  # Linux reports the closed other end of a pty as EIO.
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


# Failures after retries


@pytest.fixture(scope="module")
def failing_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    # With no waiting allowed, the first burst's 429s cannot be retried and become failures.
    folder = tmp_path_factory.mktemp("failing")
    server = start_loaded(folder / "server", document(SMALL_USERS), "--rate-limit", "pro.light=2")
    try:
        return run_audit(server, folder, "--max-wait", "0")
    finally:
        server.stop()


def test_failures_exit_status(failing_run: subprocess.CompletedProcess[str]) -> None:
    assert failing_run.returncode == 1, failing_run.stderr


def test_failures_listed(failing_run: subprocess.CompletedProcess[str]) -> None:
    failed = [line for line in failing_run.stderr.splitlines() if line.startswith("Failed: ")]
    assert {"HTTP 429, Zoom code 429" in line for line in failed} == {True}


def test_failures_counted(failing_run: subprocess.CompletedProcess[str]) -> None:
    users = json.loads(failing_run.stdout)["users"]
    failed = sum(1 for user in users if user["pac_status"] == "failed")
    assert f", {failed} failed." in failing_run.stderr.splitlines()[-1]


def test_failures_keep_others(failing_run: subprocess.CompletedProcess[str]) -> None:
    users = json.loads(failing_run.stdout)["users"]
    done = {u["email"]: u["pac_status"] for u in users if u["pac_status"] != "failed"}
    expected = expected_outcomes(SMALL_USERS)
    assert done == {email: expected[email] for email in done} != {}


def test_failures_error_fields(failing_run: subprocess.CompletedProcess[str]) -> None:
    users = json.loads(failing_run.stdout)["users"]
    errors = [u["error"] for u in users if u["pac_status"] == "failed"]
    assert {(e["http_status"], e["code"]) for e in errors} == {(429, 429)}


def test_outcome_values() -> None:
    # docs/client.md lists these values for the pac_status column.
    assert [o.value for o in AuditOutcome] == [
        "pac_accounts",
        "no_pac_accounts",
        "pac_disabled",
        "account_pac_disabled",
        "failed",
    ]


# Profiles


def write_config(path: Path, **profile: str) -> Path:
    lines = ["[profiles.local]"] + [f'{key} = "{value}"' for key, value in profile.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def config_file(small_server: ServerProcess, home: Path) -> Path:
    return write_config(
        home / "config.toml",
        base_url=small_server.api_url,
        token_url=small_server.token_url,
        account_id=ACCOUNT,
        client_id=CLIENT_ID,
        client_secret=SECRET,
    )


def run_profile(
    config: Path, home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [
        *audit_command_without_target(),
        "--config",
        str(config),
        "--profile",
        "local",
        "--format",
        "jsonl",
        *args,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, env=clean_env(home, env)
    )


def audit_command_without_target() -> list[str]:
    return [sys.executable, "-m", "zoompac", "pac", "audit", "--no-token-cache"]


def test_profile_gives_everything(config_file: Path, home: Path) -> None:
    run = run_profile(config_file, home)
    assert len(run.stdout.splitlines()) == 12, run.stderr


def test_profile_beats_environment(config_file: Path, home: Path) -> None:
    run = run_profile(config_file, home, env={"ZOOM_CLIENT_SECRET": "wrong-from-env"})
    assert run.returncode == 0, run.stderr


def test_option_beats_profile(config_file: Path, home: Path) -> None:
    run = run_profile(config_file, home, "--client-secret", "wrong-on-command-line")
    assert "invalid_client" in run.stderr


def test_unknown_profile(config_file: Path, home: Path) -> None:
    command = [*audit_command_without_target(), "--config", str(config_file), "--profile", "nope"]
    run = subprocess.run(command, capture_output=True, text=True, check=False, env=clean_env(home))
    assert "No profile 'nope'" in run.stderr


def test_default_config_location(config_file: Path, home: Path) -> None:
    default = home / ".config" / "zoompac" / "config.toml"
    default.parent.mkdir(parents=True, exist_ok=True)
    default.write_bytes(config_file.read_bytes())
    default.chmod(0o600)
    command = [*audit_command_without_target(), "--profile", "local", "--format", "jsonl"]
    run = subprocess.run(command, capture_output=True, text=True, check=False, env=clean_env(home))
    assert len(run.stdout.splitlines()) == 12, run.stderr


def test_readable_secret_warned(config_file: Path, home: Path) -> None:
    shared = home / "shared.toml"
    shared.write_bytes(config_file.read_bytes())
    shared.chmod(0o644)
    run = run_profile(shared, home)
    assert f"run chmod 600 {shared}" in run.stderr


def test_profile_secret_not_printed(config_file: Path, home: Path) -> None:
    run = run_profile(config_file, home, "--client-secret", "wrong-on-command-line")
    assert SECRET not in run.stdout + run.stderr


def test_missing_credentials_usage(small_server: ServerProcess, home: Path) -> None:
    run = run_audit(small_server, home, credentials=False)
    assert run.returncode == 2, run.stderr
