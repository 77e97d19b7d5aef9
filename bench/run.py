"""Drive zoompac's benchmark: data, servers, wrk rounds, the result table. `scripts/bench` runs it.

Everything listens on and is loaded over 127.0.0.1. The servers are pinned to one core and wrk to
the other. Each load gets a warm-up and then a measured run. The loads take turns round by round,
so drift on the machine spreads over all of them.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import os
import platform
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "lua"
RESULTS = BENCH / "results"
PRISM = BENCH / "node_modules" / ".bin" / "prism"
HOST = "127.0.0.1"

sys.path.insert(0, str(BENCH))  # bench/ is not a package; gen_data is imported from main()

# Zoom's published sample response for GET /v2/users/{userId}/pac, sent by the baseline and Prism.
ZOOM_SAMPLE_BODY = json.loads(
    '{"pac_accounts":[{"dedicated_dial_in_number":[{"number":"123343434","country":"USA"}],'
    '"global_dial_in_numbers":[{"number":"434343434","country":"USA"}],'
    '"conference_id":"111111","participant_password":"ghdf","listen_only_password":"hkgk"}]}'
)
TARGETS = {
    "req_vs_baseline": 1.0,  # zoompac req/s ÷ baseline req/s, at least
    "p99_vs_baseline": 1.5,  # zoompac p99 ÷ baseline p99, at most
    "req_vs_prism": 3.0,  # zoompac req/s ÷ Prism req/s, at least
    "rss_mb_at_1m": 100.0,  # zoompac peak RSS at 1,000,000 users, below
}
S2S_TOKENS = 8
USER_TOKENS = 16


@dataclass
class Server:
    name: str
    command: list[str]
    port: int
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited at start; its log ends:\n{_tail(self.log)}")
            try:
                with urllib.request.urlopen(f"{self.url}/v2/users/me/pac", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # Any HTTP response, even an error status, means the server is up.
            except OSError:
                time.sleep(0.2)
        raise SystemExit(
            f"{self.name} did not respond within {timeout:.0f} s; its log ends:\n{_tail(self.log)}"
        )

    def memory_kib(self) -> dict[str, int]:
        """VmHWM (peak resident set) and VmRSS from /proc/PID/status, in KiB."""
        assert self.process is not None
        found: dict[str, int] = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                found[name] = int(value.split()[0])
        return found

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Load:
    key: str
    label: str
    server: str
    script: str
    env: dict[str, str]
    unavailable: str | None = None  # The reason the load cannot run, shown instead of numbers.
    runs: list[dict[str, Any]] = field(default_factory=list)


def main() -> None:
    args = parse_args()
    if args.ref and os.environ.get("BENCH_EXPORTED_REF") != args.ref:
        run_on_exported_ref(args)
    if args.quick:
        args.duration = args.duration or 3
        args.warmup = args.warmup if args.warmup is not None else 1
        args.rounds = args.rounds or 1
    args.duration = args.duration or 10
    args.warmup = args.warmup if args.warmup is not None else 3
    args.rounds = args.rounds or 3
    if args.quiet_wait is None:
        args.quiet_wait = 15 if args.quick else 60

    started_at = datetime.now(UTC)
    work = Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    zoompac_extra = shlex.split(os.environ.get("BENCH_ZOOMPAC_SERVE_ARGS", ""))
    notes: list[str] = []

    import gen_data  # Only now: with --ref, zoompac must come from the exported commit.

    print(f"== zoompac from {Path(importlib.import_module('zoompac').__file__ or '?').parent}")
    print(f"== generating {args.users:,} users", flush=True)
    database = work / f"bench-{args.users}.db"
    lists = work / f"lists-{args.users}"
    generation_started = time.perf_counter()
    summary = gen_data.generate(database, args.users, lists, random.Random(args.seed))
    print(f"   {summary}, in {time.perf_counter() - generation_started:.1f} s")

    servers = make_servers(args, database, work, zoompac_extra)

    def stop_all(*_: Any) -> None:
        for server in servers.values():
            server.stop()

    def stop_on_signal(*_: Any) -> None:
        stop_all()
        sys.exit(143)

    signal.signal(signal.SIGTERM, stop_on_signal)
    memory: dict[str, dict[str, int]] = {}
    profiles: list[str] = []
    try:
        for server in servers.values():
            print(f"== starting {server.name}: {shlex.join(server.command)}", flush=True)
            server.start()
        for server in servers.values():
            server.wait_ready()

        zoompac = servers["zoompac"].url
        tokens = work / "tokens.txt"
        tokens.write_text("".join(mint_s2s_token(zoompac) + "\n" for _ in range(S2S_TOKENS)))
        user_tokens = work / "user_tokens.txt"
        me_unavailable = None
        try:
            me_users = (lists / "me_users.txt").read_text().split()[:USER_TOKENS]
            user_tokens.write_text("".join(mint_user_token(zoompac, u) + "\n" for u in me_users))
        except MintError as exc:
            me_unavailable = f"not available: {exc}"
            print(f"   user-level token: {me_unavailable}")

        base_env = {
            "BENCH_LUA_DIR": str(LUA),
            "BENCH_IDS": str(lists / "ids.txt"),
            "BENCH_EMAILS": str(lists / "emails.txt"),
            "BENCH_PAC_OFF": str(lists / "pac_off.txt"),
            "BENCH_TOKENS": str(tokens),
            "BENCH_USER_TOKENS": str(user_tokens),
        }
        loads = [
            Load("baseline", "baseline (bare Starlette)", "baseline", "by_id.lua", base_env),
            Load("prism", "Prism mock", "prism", "by_id.lua", base_env),
            Load("by_id", "zoompac: 1 by user id", "zoompac", "by_id.lua", base_env),
            Load("by_email", "zoompac: 2 by e-mail", "zoompac", "by_email.lua", base_env),
            Load(
                "me", "zoompac: 3 `me`, user token", "zoompac", "me.lua", base_env, me_unavailable
            ),
            Load("errors", "zoompac: 4 with 10 % errors", "zoompac", "errors.lua", base_env),
        ]
        notes += sanity_checks(servers, lists, tokens, user_tokens, me_unavailable is None)

        for round_number in range(1, args.rounds + 1):
            for load in loads:
                if load.unavailable:
                    continue
                server = servers[load.server]
                waited = wait_for_quiet(args)
                if args.warmup:
                    run_wrk(load, server, args.warmup, args)
                result = run_wrk(load, server, args.duration, args)
                result["waited_for_quiet_s"] = waited
                load.runs.append(result)
                print(
                    f"   round {round_number}/{args.rounds} {load.label:<32} "
                    f"{result['rps']:>9,.0f} req/s  p50 {result['p50_us'] / 1000:6.2f} ms  "
                    f"p99 {result['p99_us'] / 1000:7.2f} ms  errors {result['errors']}  "
                    f"{_cpu_text(result)}",
                    flush=True,
                )
        for name, server in servers.items():
            memory[name] = server.memory_kib()
        if args.profile:
            profiles = profile_zoompac(servers["zoompac"], loads, args, work)
    finally:
        stop_all()

    if any(run["rate_limited"] for load in loads for run in load.runs):
        notes.append(
            "Some answers were 429 (rate limited): the rate limits were on. Set "
            "RATE_LIMITS_OFF_ARGS in scripts/bench."
        )
    noisy = [
        run["other_on_server_core"]
        for load in loads
        for run in load.runs
        if (run.get("other_on_server_core") or 0) > args.quiet_below
    ]
    if noisy:
        notes.append(
            f"{len(noisy)} measured run(s) shared the server's core with other processes "
            f"(up to {max(noisy):.0%} of it; see the last column): those numbers understate "
            "every server, and the ratios between servers are less certain."
        )
    report = render(args, started_at, loads, memory, notes, zoompac_extra, profiles)
    print()
    print(report)
    stamp = started_at.strftime("%Y-%m-%d-%H%M%S")
    (RESULTS / "latest.md").write_text(report)
    (RESULTS / f"{stamp}-{args.users}users.md").write_text(report)
    if not args.quick:  # The 1M-user run compares itself with the latest full 100k run.
        (RESULTS / f"latest-{args.users}users.json").write_text(
            json.dumps(summary_json(args, started_at, loads, memory), indent=2) + "\n"
        )
    print(f"written: {RESULTS / 'latest.md'} and {RESULTS / f'{stamp}-{args.users}users.md'}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark zoompac against a bare Starlette app "
        "and Prism's mock server, on 127.0.0.1."
    )
    parser.add_argument("--users", type=int, default=100_000, help="users in the database")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s, 1 s warm-up, 1 round")
    parser.add_argument("--duration", type=int, help="seconds of each measured run (default 10)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up before each (default 3)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--quiet-wait",
        type=int,
        help="before each load, wait up to this many seconds for other processes to leave both "
        "cores under --quiet-below busy (default 60, 15 with --quick; 0 to never wait)",
    )
    parser.add_argument("--quiet-below", type=float, default=0.10, help="busy share, 0 to 1")
    parser.add_argument("--server-cpu", default="0", help="core the servers are pinned to")
    parser.add_argument("--client-cpu", default="1", help="core wrk is pinned to")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, sample zoompac with py-spy under mixes 1 and 4",
    )
    parser.add_argument("--profile-seconds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the generated data")
    parser.add_argument("--work-dir", default=str(BENCH / ".work"))
    parser.add_argument(
        "--ref",
        help="benchmark this git commit (exported with git archive) instead of the working tree, "
        "for example HEAD when files under src/ are being edited",
    )
    parser.add_argument("--command", default="scripts/bench", help=argparse.SUPPRESS)
    return parser.parse_args()


def run_on_exported_ref(args: argparse.Namespace) -> None:
    """Export src/ of the commit `--ref` names and run this script again on it; never returns.

    PYTHONPATH puts the exported copy ahead of the editable install, for this process, the data
    generator and the zoompac server alike.
    """
    resolved = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{args.ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if resolved.returncode != 0:
        raise SystemExit(f"--ref {args.ref}: not a commit of this repository.")
    commit = resolved.stdout.strip()
    source = Path(args.work_dir).resolve() / f"source-{commit[:12]}"
    if not (source / "src" / "zoompac").is_dir():
        source.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "src"],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(source / "src"), os.environ.get("PYTHONPATH")])
        ),
        "BENCH_EXPORTED_REF": args.ref,
        "BENCH_SOURCE_LABEL": f"commit {commit[:7]} (--ref {args.ref}, exported from git)",
    }
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, __file__, *sys.argv[1:]], env)  # noqa: S606


def make_servers(
    args: argparse.Namespace, database: Path, work: Path, zoompac_extra: list[str]
) -> dict[str, Server]:
    """The three servers, each pinned to the server core and listening on 127.0.0.1."""
    ports = free_ports(3)
    commands = {
        "baseline": [sys.executable, str(BENCH / "baseline_app.py"), "--port", str(ports[0])],
        # `-v error` keeps Prism from logging every request, as the access log is off elsewhere.
        "prism": [str(PRISM), "mock", str(BENCH / "pac-openapi.yaml"),
                  *f"--host {HOST} --port {ports[1]} -v error".split()],
        "zoompac": [sys.executable, "-m", "zoompac", "serve", "--database", f"sqlite:///{database}",
                    *f"--host {HOST} --port {ports[2]} --log-level warning".split(),
                    *zoompac_extra],
    }  # fmt: skip
    return {
        name: Server(name, pinned(args.server_cpu, command), port, work / f"{name}.log")
        for (name, command), port in zip(commands.items(), ports, strict=True)
    }


def pinned(cpu: str, command: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *command]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


# --- tokens -----------------------------------------------------------------------------------


class MintError(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _post_form(
    url: str, form: dict[str, str], basic: tuple[str, str] | None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(basic).encode()).decode()
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode(form).encode(), headers=headers, method="POST"
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def mint_s2s_token(base: str) -> str:
    """POST /oauth/token with the account_credentials grant of the generated S2S app."""
    import gen_data

    status, _, body = _post_form(
        f"{base}/oauth/token",
        {"grant_type": "account_credentials", "account_id": gen_data.ACCOUNT_ID},
        (gen_data.S2S_CLIENT_ID, gen_data.S2S_CLIENT_SECRET),
    )
    if status != 200:
        raise SystemExit(f"Cannot mint a Server-to-Server token: {status} {body[:200]!r}")
    return str(json.loads(body)["access_token"])


def mint_user_token(base: str, user_id: str) -> str:
    """Mint a user-level token for `user_id` through Zoom's authorization-code flow.

    The consent form is posted as the user's browser would (POST /oauth/authorize, decision
    allow), the code is read from the redirect, then exchanged at POST /oauth/token. Any failure
    raises MintError, which turns mix 3 into "not available".
    """
    import gen_data

    status, headers, body = _post_form(
        f"{base}/oauth/authorize",
        {
            "client_id": gen_data.USER_APP_CLIENT_ID,
            "redirect_uri": gen_data.USER_APP_REDIRECT_URI,
            "state": "bench",
            "decision": "allow",
            "user_id": user_id,
        },
        None,
    )
    location = headers.get("Location") or headers.get("location") or ""
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("code", [""])[0]
    if status not in (302, 303) or not code:
        raise MintError(f"POST /oauth/authorize answered {status} {body[:120]!r}")
    status, _, body = _post_form(
        f"{base}/oauth/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": gen_data.USER_APP_REDIRECT_URI,
        },
        (gen_data.USER_APP_CLIENT_ID, gen_data.USER_APP_CLIENT_SECRET),
    )
    if status != 200:
        raise MintError(f"POST /oauth/token (authorization_code) answered {status} {body[:120]!r}")
    return str(json.loads(body)["access_token"])


# --- checks and loads -------------------------------------------------------------------------


def _get(url: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def sanity_checks(
    servers: dict[str, Server], lists: Path, tokens: Path, user_tokens: Path, with_me: bool
) -> list[str]:
    """One request of each kind before the load, so a broken setup shows up as a note."""
    token = tokens.read_text().split()[0]
    user_id = (lists / "ids.txt").read_text().split()[0]
    email = (lists / "emails.txt").read_text().split()[0]
    pac_off = (lists / "pac_off.txt").read_text().split()[0]
    z = servers["zoompac"].url
    checks: list[tuple[str, str, str, Any]] = [
        (
            "baseline returns Zoom's sample body",
            f"{servers['baseline'].url}/v2/users/{user_id}/pac",
            token,
            (200, ZOOM_SAMPLE_BODY),
        ),
        (
            "Prism returns Zoom's sample body",
            f"{servers['prism'].url}/v2/users/{user_id}/pac",
            token,
            (200, ZOOM_SAMPLE_BODY),
        ),
        ("zoompac by id: 200 with PAC accounts", f"{z}/v2/users/{user_id}/pac", token, 200),
        ("zoompac by e-mail: 200 with PAC accounts", f"{z}/v2/users/{email}/pac", token, 200),
        (
            "zoompac unknown user: 404, code 1001",
            f"{z}/v2/users/zzbenchunknown1/pac",
            token,
            (404, 1001),
        ),
        ("zoompac PAC off: 400, code 2024", f"{z}/v2/users/{pac_off}/pac", token, (400, 2024)),
    ]
    if with_me:
        checks.append(
            (
                "zoompac `me`: 200 with PAC accounts",
                f"{z}/v2/users/me/pac",
                user_tokens.read_text().split()[0],
                200,
            )
        )
    notes = []
    for label, url, bearer, expected in checks:
        status, body = _get(url, bearer)
        if expected == 200:
            ok = status == 200 and bool(body.get("pac_accounts"))
        elif isinstance(expected[1], int):
            ok = (
                status == expected[0] and isinstance(body, dict) and body.get("code") == expected[1]
            )
        else:
            ok = (status, body) == expected
        print(f"   check {'ok  ' if ok else 'FAIL'} {label}")
        if not ok:
            notes.append(f"Check failed: {label} (got {status} {json.dumps(body)[:160]}).")
    return notes


def run_wrk(load: Load, server: Server, seconds: int, args: argparse.Namespace) -> dict[str, Any]:
    command = pinned(
        args.client_cpu,
        [
            "wrk",
            "-t1",
            f"-c{args.connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(LUA / load.script),
            server.url,
        ],
    )
    before = CpuSample.take(server, args)
    completed = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **load.env}, check=False
    )
    after = CpuSample.take(server, args)
    match = re.search(r"^BENCH_RESULT (\{.*\})$", completed.stdout, re.MULTILINE)
    if completed.returncode != 0 or match is None:
        raise SystemExit(
            f"wrk failed for {load.label} ({completed.returncode}):\n"
            f"{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"
        )
    result: dict[str, Any] = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["socket_error_count"] = sum(result["socket_errors"].values())
    result["errors"] = result["unexpected_errors"] + result["socket_error_count"]
    result.update(before.shares_until(after))
    # Requests per second of server CPU: what the server would serve with a core of its own.
    # It holds up on a shared machine, where req/s falls with the CPU that others take.
    result["rps_per_cpu"] = result["requests"] / max(result["server_cpu_s"], 0.01)
    return result


def wait_for_quiet(args: argparse.Namespace) -> float:
    """Wait until neither core is busier than --quiet-below over one second; return the wait.

    This machine may be shared (other sessions run test suites on it), and a load measured while
    something else runs measures both. Gives up after --quiet-wait seconds; the report then shows
    how much CPU the others took during the run.
    """
    started = time.monotonic()
    while True:
        before = [_core_ticks(args.server_cpu), _core_ticks(args.client_cpu)]
        time.sleep(1.0)
        after = [_core_ticks(args.server_cpu), _core_ticks(args.client_cpu)]
        shares = [
            (a[0] - b[0]) / max(a[1] - b[1], 1)
            for b, a in zip(before, after, strict=True)
            if a is not None and b is not None
        ]
        waited = time.monotonic() - started
        if not shares or max(shares) <= args.quiet_below or waited >= args.quiet_wait:
            return round(waited, 1)


@dataclass
class CpuSample:
    """CPU time counters, to tell how busy the server was and how much else ran on its cores.

    Other processes on the machine (a test suite, say) take time from the pinned server or from
    wrk; the report shows that share, so a noisy run can be told from a slow server.
    """

    server_core: tuple[int, int] | None  # (busy, total) ticks of the server's core
    client_core: tuple[int, int] | None
    server_ticks: int  # the server process's user + system ticks
    children_seconds: float  # user + system seconds of finished children (wrk)

    @classmethod
    def take(cls, server: Server, args: argparse.Namespace) -> CpuSample:
        assert server.process is not None
        fields = Path(f"/proc/{server.process.pid}/stat").read_text().rpartition(")")[2].split()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(
            _core_ticks(args.server_cpu),
            _core_ticks(args.client_cpu),
            int(fields[11]) + int(fields[12]),
            usage.ru_utime + usage.ru_stime,
        )

    def shares_until(self, later: CpuSample) -> dict[str, float | None]:
        """Return the server's CPU seconds and the shares of both cores, up to `later`."""
        ticks_per_second = os.sysconf("SC_CLK_TCK")
        own = later.server_ticks - self.server_ticks
        cpu_seconds = {"server_cpu_s": own / ticks_per_second}
        if not (self.server_core and later.server_core and self.client_core and later.client_core):
            return {
                **cpu_seconds,
                "server_cpu": None,
                "other_on_server_core": None,
                "other_on_client_core": None,
            }
        server_busy = later.server_core[0] - self.server_core[0]
        server_total = max(later.server_core[1] - self.server_core[1], 1)
        client_busy = later.client_core[0] - self.client_core[0]
        client_total = max(later.client_core[1] - self.client_core[1], 1)
        wrk = (later.children_seconds - self.children_seconds) * ticks_per_second
        return {
            **cpu_seconds,
            "server_cpu": own / server_total,
            "other_on_server_core": max(server_busy - own, 0) / server_total,
            "other_on_client_core": max(client_busy - wrk, 0) / client_total,
            "wrk_cpu": wrk / client_total,
        }


def _core_ticks(cpu: str) -> tuple[int, int] | None:
    """(busy, total) ticks of one core from /proc/stat; None unless `cpu` names one core."""
    if not cpu.isdigit():
        return None
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            ticks = [int(value) for value in line.split()[1:]]
            idle = ticks[3] + ticks[4]  # idle + iowait
            return sum(ticks[:8]) - idle, sum(ticks[:8])
    return None


# --- profiling --------------------------------------------------------------------------------


def profile_zoompac(
    server: Server, loads: list[Load], args: argparse.Namespace, work: Path
) -> list[str]:
    """Sample zoompac with py-spy while wrk runs mixes 1 and 4; summarise each profile."""
    import profile_summary

    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        return ["py-spy is not installed: no profile taken."]
    assert server.process is not None
    sections = []
    for load in loads:
        if load.key not in ("by_id", "errors"):
            continue
        raw = work / f"profile-{load.key}.txt"
        wrk = subprocess.Popen(
            pinned(
                args.client_cpu,
                [
                    "wrk",
                    "-t1",
                    f"-c{args.connections}",
                    f"-d{args.profile_seconds + 4}s",
                    "-s",
                    str(LUA / load.script),
                    server.url,
                ],
            ),
            stdout=subprocess.DEVNULL,
            env={**os.environ, **load.env},
        )
        time.sleep(2)
        subprocess.run(
            pinned(
                args.client_cpu,
                # py-spy pauses the server for each sample. --nonblocking would not, but then
                # about a tenth of the stacks come back partial and cannot be attributed.
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(server.process.pid),
                    "--rate",
                    "100",
                    "--duration",
                    str(args.profile_seconds),
                    "--format",
                    "raw",
                    "--nolineno",
                    "--output",
                    str(raw),
                ],
            ),
            check=True,
            capture_output=True,
        )
        wrk.wait()
        stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H%M%S")
        kept = RESULTS / f"profile-{stamp}-{load.key}.txt"
        shutil.copyfile(raw, kept)
        summary = profile_summary.summarise(raw.read_text(), top=25)
        sections.append(
            f"### Profile under {load.label}\n\nRaw stacks: `{kept.relative_to(ROOT)}`"
            f"\n\n```\n{summary}\n```"
        )
    return sections


# --- report -----------------------------------------------------------------------------------


def _median(load: Load, key: str) -> float:
    return float(statistics.median(run[key] for run in load.runs))


def summary_json(
    args: argparse.Namespace,
    started_at: datetime,
    loads: list[Load],
    memory: dict[str, dict[str, int]],
) -> dict[str, Any]:
    return {
        "date": started_at.isoformat(timespec="seconds"),
        "users": args.users,
        "duration": args.duration,
        "rounds": args.rounds,
        "memory_kib": memory,
        "loads": {
            load.key: {
                "unavailable": load.unavailable,
                "rps": _median(load, "rps") if load.runs else None,
                "p50_us": _median(load, "p50_us") if load.runs else None,
                "p99_us": _median(load, "p99_us") if load.runs else None,
                "rps_per_cpu": _median(load, "rps_per_cpu") if load.runs else None,
                "errors": sum(run["errors"] for run in load.runs),
                "runs": load.runs,
            }
            for load in loads
        },
    }


def render(
    args: argparse.Namespace,
    started_at: datetime,
    loads: list[Load],
    memory: dict[str, dict[str, int]],
    notes: list[str],
    zoompac_extra: list[str],
    profiles: list[str],
) -> str:
    by_key = {load.key: load for load in loads}
    base, prism = by_key["baseline"], by_key["prism"]
    base_rps, base_p99 = _median(base, "rps"), _median(base, "p99_us")
    prism_rps = _median(prism, "rps")
    rows = [
        "| server and mix | req/s | p50 ms | p99 ms | peak RSS MB | errors "
        "| req/s ÷ baseline | p99 ÷ baseline | req/s ÷ Prism | req per CPU-s | others' CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    verdicts: list[str] = []
    for load in loads:
        rss = memory.get(load.server, {}).get("VmHWM")
        rss_text = f"{rss / 1024:.1f}" if rss else "?"
        if load.unavailable:
            rows.append(f"| {load.label} | {load.unavailable} | | | {rss_text} | | | | | | |")
            continue
        rps, p50, p99 = _median(load, "rps"), _median(load, "p50_us"), _median(load, "p99_us")
        errors = sum(run["errors"] for run in load.runs)
        ratios = ["", "", ""]
        if load.server == "zoompac":
            r_base, r_p99, r_prism = rps / base_rps, p99 / base_p99, rps / prism_rps
            ratios = [f"{r_base:.2f}×", f"{r_p99:.2f}×", f"{r_prism:.2f}×"]
            verdicts.append(
                f"- {load.label}: req/s {r_base:.2f}× baseline "
                f"({_met(r_base >= TARGETS['req_vs_baseline'])}), p99 {r_p99:.2f}× baseline "
                f"({_met(r_p99 <= TARGETS['p99_vs_baseline'])}), req/s {r_prism:.2f}× Prism "
                f"({_met(r_prism >= TARGETS['req_vs_prism'])}); per CPU-second "
                f"{_median(load, 'rps_per_cpu') / _median(base, 'rps_per_cpu'):.2f}× baseline, "
                f"{_median(load, 'rps_per_cpu') / _median(prism, 'rps_per_cpu'):.2f}× Prism"
            )
        rows.append(
            f"| {load.label} | {rps:,.0f} | {p50 / 1000:.2f} | {p99 / 1000:.2f} | {rss_text} "
            f"| {errors} | {' | '.join(ratios)} | {_median(load, 'rps_per_cpu'):,.0f} "
            f"| {_others_text(load)} |"
        )

    zoompac_rss = memory.get("zoompac", {}).get("VmHWM", 0) / 1024
    if args.users >= 1_000_000:
        verdicts.append(
            f"- zoompac peak RSS at {args.users:,} users: {zoompac_rss:.1f} MB "
            f"({_met(zoompac_rss < TARGETS['rss_mb_at_1m'])}; target < 100 MB)"
        )
    else:
        verdicts.append(
            f"- zoompac peak RSS: {zoompac_rss:.1f} MB at {args.users:,} users "
            "(the < 100 MB target applies at 1,000,000 users: `scripts/bench --users 1000000`)"
        )

    rounds = [
        f"- {load.label}: " + "; ".join(_round_text(run) for run in load.runs)
        for load in loads
        if load.runs
    ]
    errors_load = by_key["errors"]
    mix4 = ""
    if errors_load.runs:
        intended = sum(run["intended_errors"] for run in errors_load.runs)
        expected = sum(run["expected_errors"] for run in errors_load.runs)
        total = sum(run["requests"] for run in errors_load.runs)
        mix4 = (
            f"\nMix 4 sent {intended:,} requests meant to fail out of {total:,} "
            f"({intended / max(total, 1):.1%}); {expected:,} came back with the intended error "
            "(the two differ by the requests still in flight when wrk stopped).\n"
        )

    comparison = compare_with_100k(args, by_key, zoompac_rss)
    rate_hook = (
        f"switched off with `{shlex.join(zoompac_extra)}`"
        if zoompac_extra
        else "left at the server's default (no RATE_LIMITS_OFF_ARGS)"
    )
    mode = "quick smoke run" if args.quick else "full run"
    lines = [
        f"# zoompac benchmark: {args.users:,} users, {mode}",
        "",
        f"- Command: `{args.command}`",
        f"- Date: {started_at.strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}",
        f"- Versions: {versions()}",
        f"- zoompac: {git_revision()}; rate limits {rate_hook}",
        f"- Load: wrk, 1 thread, {args.connections} connections, {args.duration} s after a "
        f"{args.warmup} s warm-up, {args.rounds} interleaved round(s); servers pinned to CPU "
        f"{args.server_cpu}, wrk to CPU {args.client_cpu}; the table shows medians of the rounds",
        "- req per CPU-s: requests per second of the server's own CPU time, what it would serve "
        "with a core to itself; others' CPU: the share of the server's core / of wrk's core that "
        "processes outside the benchmark took during the measured runs (0 % on a quiet machine)",
        "",
        *rows,
        "",
        "Targets (reported, not enforced):",
        "",
        *verdicts,
        "",
        "req/s of each round (in brackets: the server's CPU use, then the share of the server's "
        "core and of wrk's core that other processes on the machine took):",
        "",
        *rounds,
        mix4,
    ]
    if comparison:
        lines += [comparison, ""]
    if notes:
        lines += ["Notes:", "", *[f"- {note}" for note in notes], ""]
    for section in profiles:
        lines += [section, ""]
    return "\n".join(lines).rstrip() + "\n"


def _others_text(load: Load) -> str:
    """Median CPU share that other processes took from the server's core and from wrk's."""
    shares = [
        (run["other_on_server_core"], run["other_on_client_core"])
        for run in load.runs
        if run.get("other_on_server_core") is not None
    ]
    if not shares:
        return "?"
    server_core = statistics.median(share[0] for share in shares)
    client_core = statistics.median(share[1] for share in shares)
    return f"{server_core:.0%} / {client_core:.0%}"


def _round_text(run: dict[str, Any]) -> str:
    if run.get("server_cpu") is None:
        return f"{run['rps']:,.0f}"
    return (
        f"{run['rps']:,.0f} ({run['server_cpu']:.0%}, {run['other_on_server_core']:.0%}, "
        f"{run['other_on_client_core']:.0%})"
    )


def _cpu_text(run: dict[str, Any]) -> str:
    if run.get("server_cpu") is None:
        return ""
    return (
        f"server CPU {run['server_cpu']:.0%}, wrk CPU {run['wrk_cpu']:.0%}, other processes "
        f"{run['other_on_server_core']:.0%} of the server core and "
        f"{run['other_on_client_core']:.0%} of wrk's"
    )


def _met(ok: bool) -> str:
    return "met" if ok else "missed"


def compare_with_100k(args: argparse.Namespace, by_key: dict[str, Load], rss_mb: float) -> str:
    if args.users == 100_000:
        return ""
    path = RESULTS / "latest-100000users.json"
    if not path.exists():
        return f"No 100,000-user result in {path.relative_to(ROOT)} to compare with."
    other = json.loads(path.read_text())
    other_rss = other["memory_kib"].get("zoompac", {}).get("VmHWM", 0) / 1024
    parts = [
        f"Against the 100,000-user run of {other['date']}: zoompac peak RSS {rss_mb:.1f} MB "
        f"vs {other_rss:.1f} MB"
    ]
    for key in ("by_id", "by_email", "me", "errors"):
        load, before = by_key[key], other["loads"].get(key, {})
        if load.runs and before.get("rps"):
            per_cpu = ""
            before_runs = [run["rps_per_cpu"] for run in before.get("runs", [])]
            if before_runs:
                per_cpu = (
                    f", {_median(load, 'rps_per_cpu'):,.0f} vs "
                    f"{statistics.median(before_runs):,.0f} req per CPU-s"
                )
            parts.append(
                f"{load.label} {_median(load, 'rps'):,.0f} vs {before['rps']:,.0f} req/s "
                f"(p99 {_median(load, 'p99_us') / 1000:.2f} vs {before['p99_us'] / 1000:.2f} ms"
                f"{per_cpu})"
            )
    return "; ".join(parts) + "."


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    return (
        f"nproc {nproc}, {model}, {mem_kib / 1024 / 1024:.1f} GiB RAM, Linux {platform.release()}"
    )


def versions() -> str:
    def dist(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "missing"

    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    wrk_version = (wrk.stdout or wrk.stderr).split("\n")[0].split(" [")[0].removeprefix("wrk ")
    prism = subprocess.run([str(PRISM), "--version"], capture_output=True, text=True, check=False)
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    return (
        f"Python {platform.python_version()}, uvicorn {dist('uvicorn')}, "
        f"Starlette {dist('starlette')}, uvloop {dist('uvloop')}, httptools {dist('httptools')}, "
        f"SQLAlchemy {dist('sqlalchemy')}, PyJWT {dist('pyjwt')}, wrk {wrk_version}, "
        f"Prism {prism.stdout.strip()} on Node.js {node.stdout.strip()}"
    )


def git_revision() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    if os.environ.get("BENCH_SOURCE_LABEL"):
        return os.environ["BENCH_SOURCE_LABEL"]
    revision = git("rev-parse", "--short", "HEAD") or "unknown revision"
    dirty = git("status", "--porcelain", "--", "src")
    return f"working tree at commit {revision}" + (
        ", with uncommitted changes under src/" if dirty else ""
    )


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


if __name__ == "__main__":
    main()
