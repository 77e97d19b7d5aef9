"""Benchmark: audit 2,000 users at a Light limit of 80 requests per second.

Starts a zoompac server on 127.0.0.1 over a fresh SQLite file and loads 2,000 users. Then runs
the PAC audit through `zoompac.client.audit_pac_accounts`, the engine behind `zoompac pac
audit`, and reports the wall time against the ideal (users / limit) and the count of 429s.

    .venv/bin/python bench/audit/run.py [--users N] [--limit N] [--concurrency N] [--plan P]

Targets: wall time within 10 % of the ideal, and at most one 429 per second of run time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.client_accounts import (  # noqa: E402 (after the path set-up)
    ACCOUNT,
    CLIENT_ID,
    SECRET,
    document,
    start_loaded,
    user_entries,
)

from zoompac.client import (  # noqa: E402
    AsyncClient,
    RatePacer,
    ServerToServerAuth,
    audit_pac_accounts,
)
from zoompac.client._audit import DEFAULT_CONCURRENCY  # noqa: E402
from zoompac.client._pacing import DEFAULT_HEADROOM  # noqa: E402


async def audit(
    api_url: str, token_url: str, concurrency: int, plan: str | None, headroom: float
) -> dict[str, float]:
    statuses: Counter[int] = Counter()

    async def count(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/pac"):
            statuses[response.status_code] += 1

    auth = ServerToServerAuth(ACCOUNT, CLIENT_ID, SECRET, token_url=token_url)
    pacer = RatePacer(plan=plan, headroom=headroom)
    client = AsyncClient(auth, base_url=api_url, pacer=pacer, event_hooks={"response": [count]})
    async with client:
        started = time.perf_counter()
        result = await audit_pac_accounts(client, concurrency=concurrency)
        elapsed = time.perf_counter() - started
    return {
        "users": len(result.records),
        "failed": len(result.failures),
        "seconds": elapsed,
        "responses_429": statuses[429],
        # 200 for users with PAC on, 400 for those with it off; anything else is a failure.
        "responses_not_429": sum(n for status, n in statuses.items() if status != 429),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=80, help="Light requests per second")
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--headroom", type=float, default=DEFAULT_HEADROOM)
    parser.add_argument(
        "--plan", default=None, help="Tell the client the plan (business) instead of learning it"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="zoompac-bench-") as folder:
        fixture = document(user_entries(args.users), plan="business")
        server = start_loaded(
            Path(folder),
            fixture,
            "--rate-limit",
            f"business.light={args.limit}",
            "--log-level",
            "warning",
        )
        try:
            report = asyncio.run(
                audit(server.api_url, server.token_url, args.concurrency, args.plan, args.headroom)
            )
        finally:
            server.stop()

    ideal = args.users / args.limit
    seconds = report["seconds"]
    report.update(
        ideal_seconds=ideal,
        over_ideal_percent=100 * (seconds - ideal) / ideal,
        responses_429_per_second=report["responses_429"] / seconds,
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
