"""Drive zoompac's benchmark: data, servers, wrk rounds, the result table. `scripts/bench` runs it.

Everything listens on and is loaded over 127.0.0.1. The servers are pinned to one core and wrk to
the other. Each load gets a warm-up and then a measured run. The loads take turns round by round,
so drift on the machine spreads over all of them.

Unless --no-scale-out, the script also starts its own PostgreSQL and Redis servers in temporary
folders and loads the same generated data into PostgreSQL. It then measures zoompac on them with
one and with two workers, against zoompac on SQLite with the same arguments. PostgreSQL, Redis
and the workers share the server core, and wrk keeps the other core.
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
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
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
# Runs on more users than this add a load by id over as many holders as a run on this many
# users requests, so that the comparison separates the database's size from the working set's.
REFERENCE_USERS = 100_000

# The scale-out servers always count every request against a limit that never bites, because
# with `--no-rate-limits` zoompac never calls Redis. Their SQLite reference counts in its own
# memory. scripts/bench gives the main zoompac server the same limit unless RATE_LIMIT_ARGS sets
# other arguments.
SCALE_OUT_LIMIT_ARGS = ["--rate-limit", "business.light=1000000"]
SCALE_OUT_MIXES = {  # mix number: (label, wrk script)
    "1": ("1 by user id", "by_id.lua"),
    "2": ("2 by e-mail", "by_email.lua"),
    "3": ("3 `me`, user token", "me.lua"),
    "4": ("4 with 10 % errors", "errors.lua"),
}
SCALE_OUT_CONFIGS = {  # server key: label
    "so_sqlite": "SQLite, 1 worker",
    "so_pg1": "PostgreSQL + Redis, 1 worker",
    "so_pg2": "PostgreSQL + Redis, 2 workers",
}
SCALE_OUT_DATABASE = "zoompac_bench"


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

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

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

    def tree_memory_kib(self) -> int:
        """Return the sum of VmHWM over this server's processes (with --workers, the parent's and
        each worker's)."""
        assert self.process is not None
        total = 0
        for pid in process_tree(self.process.pid):
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        return total

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
    services: tuple[str, ...] = ()  # PostgreSQL and Redis: their CPU time is counted per load
    mix: str = ""  # the mix number, for the scale-out loads


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
        args.quiet_wait = 10 if args.quick else 60

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
    services: dict[str, PostgresService | RedisService] = {}

    def stop_all(*_: Any) -> None:
        for server in servers.values():
            server.stop()
        for service in services.values():
            service.stop()

    def stop_on_signal(*_: Any) -> None:
        stop_all()
        sys.exit(143)

    signal.signal(signal.SIGTERM, stop_on_signal)
    memory: dict[str, dict[str, int]] = {}
    profiles: list[str] = []
    try:
        if args.scale_out:
            notes += start_scale_out(args, database, work, lists, zoompac_extra, services, servers)
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
        if args.users > REFERENCE_USERS:
            loads.append(same_working_set_load(args, work, lists, base_env))
        notes += sanity_checks(servers, lists, tokens, user_tokens, me_unavailable is None)
        if args.scale_out:
            more_loads, more_notes = scale_out_loads(
                args,
                servers,
                work,
                lists,
                base_env,
                me_unavailable,
                zoompac_extra,
                {name: service.pid for name, service in services.items()},
            )
            loads += more_loads
            notes += more_notes

        for round_number in range(1, args.rounds + 1):
            for load in loads:
                if load.unavailable:
                    continue
                server = servers[load.server]
                waited = wait_for_quiet(args)
                roots = {
                    "server": server.pid,
                    **{name: services[name].pid for name in load.services},
                }
                if args.warmup:
                    run_wrk(load, server, args.warmup, args, roots)
                result = run_wrk(load, server, args.duration, args, roots)
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
            memory[name]["tree_VmHWM"] = server.tree_memory_kib()
        if args.profile:
            profiles = profile_zoompac(servers["zoompac"], loads, args, work)
    finally:
        stop_all()

    if any(run["rate_limited"] for load in loads for run in load.runs):
        notes.append(
            "Some answers were 429 (rate limited): a rate limit bit. See RATE_LIMIT_ARGS in "
            "scripts/bench."
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
    report = render(args, started_at, loads, memory, notes, zoompac_extra, profiles, services)
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
        prog="scripts/bench",
        description="Benchmark zoompac against a bare Starlette app "
        "and Prism's mock server, on 127.0.0.1.",
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
        "cores under --quiet-below busy (default 60, 10 with --quick; 0 to never wait)",
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
    parser.add_argument(
        "--no-scale-out",
        dest="scale_out",
        action="store_false",
        help="skip zoompac on PostgreSQL and Redis with 1 and 2 workers (on by default)",
    )
    parser.add_argument(
        "--scale-out-mixes",
        default="1",
        help="mixes to run on PostgreSQL and Redis, comma-separated numbers from 1 to 4 "
        "(default 1; each mix adds 3 loads a round)",
    )
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


def same_working_set_load(
    args: argparse.Namespace, work: Path, lists: Path, base_env: dict[str, str]
) -> Load:
    """Return mix 1 over the first N holders, N being how many a 100,000-user run requests."""
    reference = Path(args.work_dir).resolve() / f"lists-{REFERENCE_USERS}" / "ids.txt"
    # Without that run's lists: `gen_data` makes about a fifth of the users PAC holders.
    count = REFERENCE_USERS // 5
    if reference.exists():
        count = len(reference.read_text().split())
    subset = work / f"ids-first-{count}.txt"
    subset.write_text(
        "".join(f"{user_id}\n" for user_id in (lists / "ids.txt").read_text().split()[:count])
    )
    label = f"zoompac: 1 by user id, first {count:,} holders"
    return Load(
        "by_id_same_set", label, "zoompac", "by_id.lua", {**base_env, "BENCH_IDS": str(subset)}
    )


def make_servers(
    args: argparse.Namespace, database: Path, work: Path, zoompac_extra: list[str]
) -> dict[str, Server]:
    """The three servers, each pinned to the server core and listening on 127.0.0.1."""
    ports = free_ports(3)
    # The run's own admin token. Without one, zoompac rewrites the token file in the user's
    # data folder, which a `zoompac serve` running beside the benchmark reads.
    admin_token = work / "admin-token"
    admin_token.write_text(secrets.token_urlsafe(24) + "\n")
    admin_token.chmod(0o600)
    commands = {
        "baseline": [sys.executable, str(BENCH / "baseline_app.py"), "--port", str(ports[0])],
        # `-v error` keeps Prism from logging every request, as the access log is off elsewhere.
        "prism": [str(PRISM), "mock", str(BENCH / "pac-openapi.yaml"),
                  *f"--host {HOST} --port {ports[1]} -v error".split()],
        "zoompac": [sys.executable, "-m", "zoompac", "serve", "--database", f"sqlite:///{database}",
                    *f"--host {HOST} --port {ports[2]} --log-level warning".split(),
                    "--admin-token-file", str(admin_token), *zoompac_extra],
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


# --- PostgreSQL, Redis and the scale-out loads ------------------------------------------------


def _process_table() -> dict[int, tuple[int, int]]:
    """Map every pid to its parent's pid and its CPU ticks, with those of reaped children."""
    table: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue  # The process ended while the table was read.
        fields = stat.rpartition(")")[2].split()
        # utime, stime, cutime and cstime; fields[1] is the parent's pid.
        table[int(entry.name)] = (int(fields[1]), sum(int(value) for value in fields[11:15]))
    return table


def _tree(table: dict[int, tuple[int, int]], root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        if pid in table:
            found.append(pid)
            pending.extend(children.get(pid, []))
    return found


def process_tree(root: int) -> list[int]:
    """Return `root` and every process under it, such as uvicorn's workers or PostgreSQL's
    backends."""
    return _tree(_process_table(), root)


def tree_ticks(roots: dict[str, int]) -> dict[str, int]:
    """Return the CPU ticks of each named process tree, from one reading of /proc."""
    table = _process_table()
    return {name: sum(table[pid][1] for pid in _tree(table, root)) for name, root in roots.items()}


def _postgres_binaries() -> Path:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise SystemExit(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): run "
            "scripts/bench, which installs it, or pass --no-scale-out."
        )
    return found[-1].parent


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; as root, run it as the `postgres` system user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class PostgresService:
    """A PostgreSQL cluster of its own in a new temporary folder, pinned to `cpu`.

    The folder is world-readable, so that the `postgres` user reaches it when the script runs
    as root. `runuser` does not pass signals on to PostgreSQL, so stop() runs `pg_ctl stop`.
    """

    cpu: str
    log: Path
    name: str = "PostgreSQL"
    folder: Path | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        assert self.folder is not None
        return self.folder / "data"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def version(self) -> str:
        done = subprocess.run(
            [str(_postgres_binaries() / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=False,
        )
        found = re.search(r"\) (\d+(?:\.\d+)*)", done.stdout)  # postgres (PostgreSQL) 15.18 ...
        return found.group(1) if found else "?"

    def start(self) -> None:
        binaries = _postgres_binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="zoompac-bench-postgres-"))
        self.folder.chmod(0o755)
        self.data_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
        initdb = [str(binaries / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]  # fmt: skip
        done = subprocess.run(
            _as_postgres_user(initdb), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"initdb failed ({done.returncode}):\n{done.stderr[-2000:]}")
        self.port = free_ports(1)[0]
        # Default settings, TCP on 127.0.0.1 only, and the Unix socket inside the data folder.
        command = [str(binaries / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                   "-h", HOST, "-k", str(self.data_dir)]  # fmt: skip
        print(f"== starting PostgreSQL: {shlex.join(command)}", flush=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                pinned(self.cpu, _as_postgres_user(command)),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"PostgreSQL exited at start; its log ends:\n{_tail(self.log)}")
            try:
                psycopg.connect(self.url(), connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"PostgreSQL did not start within 30 s; its log ends:\n{_tail(self.log)}"
                    ) from None
                time.sleep(0.1)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            pg_ctl = str(_postgres_binaries() / "pg_ctl")
            done = subprocess.run(
                _as_postgres_user([pg_ctl, "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                text=True,
                check=False,
            )
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(
                    f"PostgreSQL did not stop ({done.stderr.strip()[-300:]}); its folder "
                    f"{self.folder} is kept. Stop it with: pg_ctl -D {self.data_dir} stop",
                    file=sys.stderr,
                )
                return
        self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


@dataclass
class RedisService:
    """A Redis server without persistence, in a new temporary folder, pinned to `cpu`."""

    cpu: str
    log: Path
    name: str = "Redis"
    folder: Path | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def version(self) -> str:
        done = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, check=False
        )
        found = re.search(r"v=(\S+)", done.stdout)
        return found.group(1) if found else "?"

    def start(self) -> None:
        if shutil.which("redis-server") is None:
            raise SystemExit(
                "redis-server is not installed: run scripts/bench, which installs it, or pass "
                "--no-scale-out."
            )
        import redis

        self.folder = Path(tempfile.mkdtemp(prefix="zoompac-bench-redis-"))
        self.port = free_ports(1)[0]
        command = ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "",
                   "--appendonly", "no", "--dir", str(self.folder)]  # fmt: skip
        print(f"== starting Redis: {shlex.join(command)}", flush=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                pinned(self.cpu, command),  # taskset execs redis-server: the pid is Redis's
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"Redis exited at start; its log ends:\n{_tail(self.log)}")
            try:
                redis.Redis(host=HOST, port=self.port, socket_timeout=1).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"Redis did not start within 15 s; its log ends:\n{_tail(self.log)}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


LIST_FILES = ("ids.txt", "emails.txt", "pac_off.txt", "me_users.txt")


def describe_rate_limits(zoompac_extra: list[str]) -> str:
    """Return the report's words for how the main zoompac server treated rate limits."""
    arguments = shlex.join(zoompac_extra)
    if "--no-rate-limits" in zoompac_extra:
        return f"switched off with `{arguments}`: requests were not counted"
    if any(arg == "--rate-limit" or arg.startswith("--rate-limit=") for arg in zoompac_extra):
        counted = f"counted on every request, with `{arguments}`"
        if arguments == shlex.join(SCALE_OUT_LIMIT_ARGS):
            return f"{counted}, a limit the load never reaches"
        return counted
    return "left at the server's default, Zoom's limits (RATE_LIMIT_ARGS empty)"


def scale_out_serve_args(zoompac_extra: list[str]) -> list[str]:
    """Return the main server's extra arguments with `--no-rate-limits` replaced by a limit that
    never bites, so that every request is counted (in Redis, on PostgreSQL)."""
    if "--no-rate-limits" not in zoompac_extra:
        return list(zoompac_extra)
    return [arg for arg in zoompac_extra if arg != "--no-rate-limits"] + SCALE_OUT_LIMIT_ARGS


def start_scale_out(
    args: argparse.Namespace,
    database: Path,
    work: Path,
    lists: Path,
    zoompac_extra: list[str],
    services: dict[str, PostgresService | RedisService],
    servers: dict[str, Server],
) -> list[str]:
    """Start PostgreSQL and Redis, load the generated data into PostgreSQL, and add the three
    scale-out zoompac servers to `servers` (not started yet). Returns notes for the report."""
    import gen_data

    postgres = services["postgresql"] = PostgresService(args.server_cpu, work / "postgresql.log")
    postgres.start()
    redis_service = services["redis"] = RedisService(args.server_cpu, work / "redis.log")
    redis_service.start()
    url = postgres.create_database(SCALE_OUT_DATABASE)
    print(f"== generating the same {args.users:,} users into PostgreSQL", flush=True)
    pg_lists = work / f"lists-{args.users}-postgresql"
    started = time.perf_counter()
    summary = gen_data.generate(url, args.users, pg_lists, random.Random(args.seed))
    print(f"   {summary}, in {time.perf_counter() - started:.1f} s")
    notes = []
    differing = [
        name for name in LIST_FILES if (lists / name).read_bytes() != (pg_lists / name).read_bytes()
    ]
    if differing:
        notes.append(
            f"The PostgreSQL data differs from the SQLite data ({', '.join(differing)} differ): "
            "the scale-out ratios compare different data."
        )

    serve_args = [*scale_out_serve_args(zoompac_extra), "--no-control-plane"]
    ports = free_ports(3)
    redis_args = ["--redis", redis_service.url]
    commands = {
        "so_sqlite": ["--database", f"sqlite:///{database}"],
        "so_pg1": ["--database", url, *redis_args, "--redis-prefix", "bench-1w"],
        "so_pg2": ["--database", url, *redis_args, "--redis-prefix", "bench-2w", "--workers", "2"],
    }
    for (key, options), port in zip(commands.items(), ports, strict=True):
        listen = f"--host {HOST} --port {port} --log-level warning".split()
        command = [sys.executable, "-m", "zoompac", "serve", *options, *listen, *serve_args]
        servers[key] = Server(key, pinned(args.server_cpu, command), port, work / f"{key}.log")
    return notes


def scale_out_loads(
    args: argparse.Namespace,
    servers: dict[str, Server],
    work: Path,
    lists: Path,
    base_env: dict[str, str],
    me_unavailable: str | None,
    zoompac_extra: list[str],
    services_pids: dict[str, int],
) -> tuple[list[Load], list[str]]:
    """Mint tokens on PostgreSQL, check each scale-out server once, and return their loads."""
    mixes = [mix.strip() for mix in args.scale_out_mixes.split(",") if mix.strip()]
    unknown = [mix for mix in mixes if mix not in SCALE_OUT_MIXES]
    if unknown:
        raise SystemExit(f"--scale-out-mixes: unknown mix {', '.join(unknown)}; use 1 to 4.")
    pg = servers["so_pg1"].url
    tokens = work / "tokens-postgresql.txt"
    tokens.write_text("".join(mint_s2s_token(pg) + "\n" for _ in range(S2S_TOKENS)))
    user_tokens = work / "user_tokens-postgresql.txt"
    pg_me_unavailable = None
    if "3" in mixes:
        try:
            me_users = (lists / "me_users.txt").read_text().split()[:USER_TOKENS]
            user_tokens.write_text("".join(mint_user_token(pg, u) + "\n" for u in me_users))
        except MintError as exc:
            pg_me_unavailable = f"not available: {exc}"
    pg_env = {**base_env, "BENCH_TOKENS": str(tokens), "BENCH_USER_TOKENS": str(user_tokens)}

    notes = []
    user_id = (lists / "ids.txt").read_text().split()[0]
    # With the limit that never bites, every response carries it in X-RateLimit-Limit, which shows
    # that the request was counted (in Redis on the PostgreSQL servers).
    counted = SCALE_OUT_LIMIT_ARGS[1].rpartition("=")[2]
    expect_counted = SCALE_OUT_LIMIT_ARGS[1] in scale_out_serve_args(zoompac_extra)
    for key, config in SCALE_OUT_CONFIGS.items():
        env = base_env if key == "so_sqlite" else pg_env
        token = Path(env["BENCH_TOKENS"]).read_text().split()[0]
        status, headers, body = _get_with_headers(
            f"{servers[key].url}/v2/users/{user_id}/pac", token
        )
        limit = {name.lower(): value for name, value in headers.items()}.get("x-ratelimit-limit")
        ok = status == 200 and isinstance(body, dict) and bool(body.get("pac_accounts"))
        print(f"   check {'ok  ' if ok else 'FAIL'} {config}: by id, 200 with PAC accounts")
        if not ok:
            notes.append(f"Check failed: {config}, by id (got {status} {json.dumps(body)[:160]}).")
        if expect_counted:
            print(f"   check {'ok  ' if limit == counted else 'FAIL'} {config}: request counted "
                  f"(X-RateLimit-Limit {limit})")  # fmt: skip
            if limit != counted:
                notes.append(
                    f"Check failed: {config} did not count the request (X-RateLimit-Limit "
                    f"{limit}, not {counted})."
                )
    # Every process of the scale-out loads must stay on the server core, leaving wrk's core free.
    roots = [*services_pids.values(), *(servers[key].pid for key in SCALE_OUT_CONFIGS)]
    strays = [
        f"{pid} ({_cmdline(pid)[:60].strip()})"
        for root in roots
        for pid in process_tree(root)
        if args.server_cpu.isdigit() and _affinity(pid) not in (None, {int(args.server_cpu)})
    ]
    print(f"   check {'FAIL' if strays else 'ok  '} scale-out processes on CPU {args.server_cpu}")
    if strays:
        notes.append(f"Processes not pinned to CPU {args.server_cpu}: {', '.join(strays)}.")
    workers = [pid for pid in process_tree(servers["so_pg2"].pid) if "spawn_main" in _cmdline(pid)]
    print(f"   check {'ok  ' if len(workers) == 2 else 'FAIL'} 2 worker processes: {len(workers)}")
    if len(workers) != 2:
        notes.append(f"The 2-worker server ran {len(workers)} worker processes, not 2.")

    loads = []
    for mix in mixes:
        label, script = SCALE_OUT_MIXES[mix]
        for key, config in SCALE_OUT_CONFIGS.items():
            sqlite = key == "so_sqlite"
            unavailable = None
            if mix == "3":
                unavailable = me_unavailable if sqlite else pg_me_unavailable
            loads.append(
                Load(
                    f"{key}_mix{mix}",
                    f"{config}: {label}",
                    key,
                    script,
                    base_env if sqlite else pg_env,
                    unavailable,
                    services=() if sqlite else ("postgresql", "redis"),
                    mix=mix,
                )
            )
    return loads, notes


def _affinity(pid: int) -> set[int] | None:
    try:
        return os.sched_getaffinity(pid)
    except OSError:
        return None  # The process ended.


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _get_with_headers(url: str, token: str) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")


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


def run_wrk(
    load: Load, server: Server, seconds: int, args: argparse.Namespace, roots: dict[str, int]
) -> dict[str, Any]:
    """Run `load` once with wrk. `roots` names the process trees whose CPU time is counted."""
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
    before = CpuSample.take(roots, args)
    completed = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **load.env}, check=False
    )
    after = CpuSample.take(roots, args)
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
    # user + system ticks of each process tree: "server" (with its workers), and PostgreSQL and
    # Redis for the scale-out loads
    ticks: dict[str, int]
    children_seconds: float  # user + system seconds of finished children (wrk)

    @classmethod
    def take(cls, roots: dict[str, int], args: argparse.Namespace) -> CpuSample:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(
            _core_ticks(args.server_cpu),
            _core_ticks(args.client_cpu),
            tree_ticks(roots),
            usage.ru_utime + usage.ru_stime,
        )

    def shares_until(self, later: CpuSample) -> dict[str, float | None]:
        """Return the CPU seconds of each tree and the shares of both cores, up to `later`."""
        ticks_per_second = os.sysconf("SC_CLK_TCK")
        used = {name: later.ticks[name] - self.ticks.get(name, 0) for name in later.ticks}
        own = used["server"]
        ours = sum(used.values())  # the server's, PostgreSQL's and Redis's, all on the same core
        cpu_seconds: dict[str, float | None] = {
            f"{name}_cpu_s": value / ticks_per_second for name, value in used.items()
        }
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
            "other_on_server_core": max(server_busy - ours, 0) / server_total,
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
    services: dict[str, PostgresService | RedisService],
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
        if load.mix:
            continue  # a scale-out load: in its own table below
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
    rate_hook = describe_rate_limits(zoompac_extra)
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
    lines += render_scale_out(args, loads, memory, zoompac_extra, services)
    if notes:
        lines += ["Notes:", "", *[f"- {note}" for note in notes], ""]
    for section in profiles:
        lines += [section, ""]
    return "\n".join(lines).rstrip() + "\n"


def _per_request_us(load: Load, name: str) -> float | None:
    """Median over the rounds of one process tree's CPU microseconds per completed request."""
    values = [
        run[f"{name}_cpu_s"] / run["requests"] * 1e6
        for run in load.runs
        if run.get(f"{name}_cpu_s") is not None and run["requests"]
    ]
    return float(statistics.median(values)) if values else None


def render_scale_out(
    args: argparse.Namespace,
    loads: list[Load],
    memory: dict[str, dict[str, int]],
    zoompac_extra: list[str],
    services: dict[str, PostgresService | RedisService],
) -> list[str]:
    """Render the table of zoompac on PostgreSQL and Redis against SQLite, and its estimates."""
    scale_out = [load for load in loads if load.mix]
    if not scale_out:
        return []
    reference = {load.mix: load for load in scale_out if load.server == "so_sqlite"}
    rows = [
        "| configuration and mix | req/s | p50 ms | p99 ms | errors | req/s ÷ SQLite "
        "| p99 ÷ SQLite | zoompac CPU µs/req | PostgreSQL CPU µs/req | Redis CPU µs/req "
        "| peak RSS MB | others' CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def us(value: float | None) -> str:
        return "" if value is None else f"{value:,.0f}"

    for load in scale_out:
        rss = memory.get(load.server, {}).get("tree_VmHWM")
        rss_text = f"{rss / 1024:.1f}" if rss else "?"
        if load.unavailable or not load.runs:
            rows.append(
                f"| {load.label} | {load.unavailable or 'not run'} | | | | | | | | | {rss_text} | |"
            )
            continue
        rps, p50, p99 = _median(load, "rps"), _median(load, "p50_us"), _median(load, "p99_us")
        ratios = ["", ""]
        base = reference.get(load.mix)
        if load.server != "so_sqlite" and base is not None and base.runs:
            ratios = [f"{rps / _median(base, 'rps'):.2f}×", f"{p99 / _median(base, 'p99_us'):.2f}×"]
        errors = sum(run["errors"] for run in load.runs)
        rows.append(
            f"| {load.label} | {rps:,.0f} | {p50 / 1000:.2f} | {p99 / 1000:.2f} | {errors} "
            f"| {' | '.join(ratios)} | {us(_per_request_us(load, 'server'))} "
            f"| {us(_per_request_us(load, 'postgresql'))} | {us(_per_request_us(load, 'redis'))} "
            f"| {rss_text} | {_others_text(load)} |"
        )

    serve_args = scale_out_serve_args(zoompac_extra)
    versions_text = ", ".join(
        f"{service.name} {service.version()}" for service in services.values()
    )
    lines = [
        "## zoompac on PostgreSQL and Redis",
        "",
        f"The same data in PostgreSQL ({versions_text}, both with their default settings, on "
        "127.0.0.1), served with one worker and with `--workers 2`, against zoompac on the "
        f"SQLite file with the same arguments. zoompac, PostgreSQL and Redis all run on CPU "
        f"{args.server_cpu}, and wrk alone on CPU {args.client_cpu}: with 2 cores there is no "
        "other split that leaves wrk a core, so the workers, PostgreSQL and Redis take turns on "
        "one core, and two workers cannot serve more than one.",
        "",
        f"These servers run with `{shlex.join([*serve_args, '--no-control-plane'])}`"
        + (
            ": a limit that never bites, so every request is counted, in Redis on PostgreSQL and "
            "in the process's memory on SQLite. The main table's server "
            + (
                "has the limits off."
                if "--no-rate-limits" in zoompac_extra
                else f"runs with `{shlex.join(zoompac_extra)}`."
            )
            if SCALE_OUT_LIMIT_ARGS[1] in serve_args
            else "."
        ),
        "zoompac CPU µs/req counts the server's processes (with 2 workers, the parent's and both "
        "workers'), PostgreSQL's counts the postmaster and its backends, Redis's the redis-server "
        "process; peak RSS MB adds up VmHWM over the server's processes.",
        "",
        *rows,
        "",
    ]
    lines += scale_out_estimate(by_key={load.key: load for load in loads})
    return lines


def scale_out_estimate(by_key: dict[str, Load]) -> list[str]:
    """Estimate, from the CPU per request of mix 1, what more machines would serve."""
    one, two, sqlite = (
        by_key.get("so_pg1_mix1"),
        by_key.get("so_pg2_mix1"),
        by_key.get("so_sqlite_mix1"),
    )
    if one is None or not one.runs:
        return []
    zoompac = _per_request_us(one, "server")
    postgres = _per_request_us(one, "postgresql")
    redis_us = _per_request_us(one, "redis")
    if not zoompac or not postgres or not redis_us:
        return []
    lines = [
        "What these numbers predict (estimates from the CPU time per request of mix 1 with one "
        "worker, not measurements on several machines):",
        "",
        f"- Per request, zoompac used {zoompac:,.0f} µs of CPU, PostgreSQL {postgres:,.0f} µs and "
        f"Redis {redis_us:,.0f} µs. A zoompac worker with a core to itself would serve about "
        f"{1e6 / zoompac:,.0f} req/s.",
        f"- One PostgreSQL core keeps up with about {zoompac / postgres:.1f} such worker cores "
        f"(about {1e6 / postgres:,.0f} req/s). Redis runs its commands on one thread, so it "
        f"keeps up with about {zoompac / redis_us:.1f} worker cores (about "
        f"{1e6 / redis_us:,.0f} req/s) whatever its machine's size.",
    ]
    if sqlite is not None and sqlite.runs:
        sqlite_us = _per_request_us(sqlite, "server")
        if sqlite_us:
            lines.append(
                f"- On SQLite, the same request took {sqlite_us:,.0f} µs of zoompac's CPU, so "
                f"PostgreSQL and Redis cost zoompac itself {zoompac / sqlite_us:.2f}× as much "
                "CPU per request."
            )
    if two is not None and two.runs:
        two_us = _per_request_us(two, "server")
        if two_us:
            lines.append(
                f"- With 2 workers on the one core, zoompac used {two_us:,.0f} µs per request "
                f"({two_us / zoompac:.2f}× one worker's)."
            )
    return [*lines, ""]


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
    pairs = [(key, key) for key in ("by_id", "by_email", "me", "errors")]
    if "by_id_same_set" in by_key:
        # The same number of distinct holders as the 100,000-user run's mix 1 requests.
        pairs.append(("by_id_same_set", "by_id"))
    for key, other_key in pairs:
        load, before = by_key[key], other["loads"].get(other_key, {})
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
