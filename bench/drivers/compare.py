"""Compare PostgreSQL drivers on zoompac's hottest query: one user looked up by primary key.

    pip install asyncpg   # only this comparison needs it
    python bench/drivers/compare.py postgresql://postgres@127.0.0.1:PORT/DB

It times psycopg 3 (synchronous, as zoompac's store calls it from worker threads) and asyncpg
(asynchronous) on one connection each, with a prepared statement, after a warm-up. The database
needs zoompac's schema and at least one user; `bench/gen_data.py --database URL` provides both.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

import asyncpg
import psycopg

QUERY = "SELECT id, account_id, email, status, pac_enabled FROM users WHERE id = $1"
ROUNDS = 5
CALLS = 2000


def time_psycopg(url: str, user_id: str) -> float:
    with psycopg.connect(url, autocommit=True, prepare_threshold=0) as connection:
        query = QUERY.replace("$1", "%s")
        for _ in range(200):
            connection.execute(query, (user_id,)).fetchone()
        started = time.perf_counter()
        for _ in range(CALLS):
            connection.execute(query, (user_id,)).fetchone()
        return (time.perf_counter() - started) / CALLS


async def time_asyncpg(url: str, user_id: str) -> float:
    connection = await asyncpg.connect(url)
    try:
        statement = await connection.prepare(QUERY)
        for _ in range(200):
            await statement.fetchrow(user_id)
        started = time.perf_counter()
        for _ in range(CALLS):
            await statement.fetchrow(user_id)
        return (time.perf_counter() - started) / CALLS
    finally:
        await connection.close()


def main() -> None:
    url = sys.argv[1]
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT id FROM users LIMIT 1").fetchone()
    if row is None:
        raise SystemExit("The database has no users: run bench/gen_data.py --database URL first.")
    user_id = row[0]
    psycopg_times, asyncpg_times = [], []
    for _ in range(ROUNDS):  # Interleaved, so load on the machine hits both alike.
        psycopg_times.append(time_psycopg(url, user_id))
        asyncpg_times.append(asyncio.run(time_asyncpg(url, user_id)))
    psycopg_us = statistics.median(psycopg_times) * 1e6
    asyncpg_us = statistics.median(asyncpg_times) * 1e6
    print(f"psycopg {psycopg.__version__}: {psycopg_us:.1f} µs per lookup (median of {ROUNDS})")
    print(f"asyncpg {asyncpg.__version__}: {asyncpg_us:.1f} µs per lookup (median of {ROUNDS})")
    print(f"psycopg ÷ asyncpg: {psycopg_us / asyncpg_us:.2f}")


if __name__ == "__main__":
    main()
