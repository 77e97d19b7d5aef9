"""Generate the benchmark's database and the lists that wrk's Lua scripts draw users from.

The database is a SQLite file or a PostgreSQL database named by a `postgresql://` URL. Rows go
straight into zoompac's schema with SQLAlchemy Core, after `migrate()`, in a few large
executemany batches. On the 2-core development machine, 100,000 users took about 2 s and
1,000,000 about 31 s into SQLite, and 100,000 about 6 s into PostgreSQL. The same seed gives the
same users, PAC accounts and lists on either database.

The data, all in one Business-plan account with the audio-conferencing add-on and PAC on:
- a fifth of the users hold PAC accounts (one each, a tenth of them two), each with one dedicated
  and one or two global dial-in numbers;
- 5 % have PAC turned off (half of them still keep their old PAC accounts);
- the rest have PAC on and no PAC account (their list is empty).
E-mails are stored in varied letter case, and the e-mail list written for the load scripts uses
another random casing of each, so every lookup exercises the case-insensitive match.

Files written to --out (one value a line):
- `ids.txt`, `emails.txt`: ids and re-cased e-mails of users who hold PAC accounts;
- `pac_off.txt`: ids of users with PAC turned off (Zoom answers 400, code 2024);
- `me_users.txt`: ids of users holding PAC accounts, for minting user-level tokens.

    python bench/gen_data.py --database bench/.work/bench.db --users 100000 --out bench/.work
    python bench/gen_data.py --database postgresql://postgres@127.0.0.1:5432/bench --out /tmp/l

A SQLite file is deleted and written anew. In a PostgreSQL database, zoompac's tables are dropped
and created anew, and the other tables are left alone.
"""

from __future__ import annotations

import argparse
import base64
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine

from zoompac.domain.models import AppKind, Plan
from zoompac.domain.secrets import hash_client_secret
from zoompac.storage.database import database_url, migrate, open_engine
from zoompac.storage.tables import accounts, apps, dial_in_numbers, metadata, pac_accounts, users

ACCOUNT_ID = "bench-account"
S2S_CLIENT_ID = "bench-s2s-client"
S2S_CLIENT_SECRET = "bench-s2s-secret"  # noqa: S105  (local benchmark data only)
USER_APP_CLIENT_ID = "bench-user-client"
USER_APP_CLIENT_SECRET = "bench-user-secret"  # noqa: S105  (local benchmark data only)
USER_APP_REDIRECT_URI = "http://127.0.0.1/bench/callback"

PAC_HOLDER_SHARE = 0.20
PAC_OFF_SHARE = 0.05
TWO_PAC_SHARE = 0.10
BATCH = 50_000

FIRST_NAMES = (
    "Ada Alan Grace Linus Margaret Dennis Barbara Ken Frances Edsger "
    "Radia Tim Hedy Donald Katherine John Sophie Niklaus Anita Guido"
).split()
LAST_NAMES = (
    "Lovelace Turing Hopper Torvalds Hamilton Ritchie Liskov Thompson Allen Dijkstra "
    "Perlman Berners-Lee Lamarr Knuth Johnson Backus Wilson Wirth Borg van_Rossum"
).split()
DOMAINS = ["example.com", "Example.org", "corp.example.net", "EXAMPLE.edu", "mail.example.io"]
COUNTRIES = ["USA", "CA", "GB", "DE", "FR", "JP", "AU", "BR", "IN", "NL"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        required=True,
        help="SQLite file to create, or a postgresql:// URL of a database to fill",
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True, help="folder for the user lists")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    started = time.perf_counter()
    database = args.database if _is_postgresql(args.database) else Path(args.database)
    summary = generate(database, args.users, args.out, random.Random(args.seed))
    elapsed = time.perf_counter() - started
    print(f"generated {summary} in {elapsed:.1f} s into {args.database}")


def generate(database: Path | str, user_count: int, out: Path, rng: random.Random) -> str:
    """Fill `database` (a SQLite file's path, or a postgresql:// URL) and write the lists."""
    out.mkdir(parents=True, exist_ok=True)
    postgresql = isinstance(database, str) and _is_postgresql(database)
    if postgresql:
        engine = open_engine(str(database))
        _drop_zoompac_tables(engine)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        engine = open_engine(f"sqlite:///{database}")
    migrate(engine)
    now = int(time.time())

    holders: list[tuple[str, str]] = []  # (id, e-mail) of users who hold PAC accounts
    pac_off: list[str] = []
    counts = {"users": 0, "pac_accounts": 0, "dial_in_numbers": 0}
    conference_ids = iter(rng.sample(range(1_000_000_000, 10_000_000_000), _pac_bound(user_count)))

    with engine.begin() as connection:
        if not postgresql:
            connection.exec_driver_sql("PRAGMA synchronous=OFF")
        connection.execute(
            insert(accounts).values(
                id=ACCOUNT_ID,
                name="Benchmark account",
                plan=Plan.BUSINESS.value,
                audio_conferencing=True,
                pac_enabled=True,
                created_at=now,
            )
        )
        connection.execute(
            insert(apps),
            [
                _app(
                    S2S_CLIENT_ID,
                    S2S_CLIENT_SECRET,
                    AppKind.SERVER_TO_SERVER,
                    "pac:read:admin",
                    now,
                ),
                _app(USER_APP_CLIENT_ID, USER_APP_CLIENT_SECRET, AppKind.USER, "pac:read", now),
            ],
        )
        next_pac_id = 1
        for chunk in _chunks(range(user_count), BATCH):
            user_rows: list[dict[str, Any]] = []
            pac_rows: list[dict[str, Any]] = []
            number_rows: list[dict[str, Any]] = []
            for index in chunk:
                user_id = _user_id(rng)
                email = _email(rng, index)
                roll = rng.random()
                pac_enabled = roll >= PAC_OFF_SHARE
                holds_pac = roll >= 1 - PAC_HOLDER_SHARE or (not pac_enabled and rng.random() < 0.5)
                first = rng.choice(FIRST_NAMES)
                user_rows.append(
                    {
                        "id": user_id,
                        "account_id": ACCOUNT_ID,
                        "email": email,
                        "email_key": email.lower(),
                        "first_name": first,
                        "last_name": rng.choice(LAST_NAMES).replace("_", " "),
                        "type": 2,
                        "status": "active",
                        "pac_enabled": pac_enabled,
                        "created_at": now,
                    }
                )
                if not pac_enabled:
                    pac_off.append(user_id)
                elif holds_pac:
                    holders.append((user_id, _recase(rng, email)))
                if not holds_pac:
                    continue
                for _ in range(2 if rng.random() < TWO_PAC_SHARE else 1):
                    pac_rows.append(
                        {
                            "id": next_pac_id,
                            "user_id": user_id,
                            "account_id": ACCOUNT_ID,
                            "conference_id": next(conference_ids),
                            "participant_password": f"{rng.randrange(1_000_000):06d}",
                            "listen_only_password": f"{rng.randrange(1_000_000):06d}",
                        }
                    )
                    for kind in ["dedicated"] + ["global"] * rng.choice((1, 2)):
                        number_rows.append(
                            {
                                "pac_account_id": next_pac_id,
                                "kind": kind,
                                "number": str(rng.randrange(100_000_000, 1_000_000_000)),
                                "country": rng.choice(COUNTRIES),
                            }
                        )
                    next_pac_id += 1
            connection.execute(insert(users), user_rows)
            if pac_rows:
                connection.execute(insert(pac_accounts), pac_rows)
            if number_rows:
                connection.execute(insert(dial_in_numbers), number_rows)
            counts["users"] += len(user_rows)
            counts["pac_accounts"] += len(pac_rows)
            counts["dial_in_numbers"] += len(number_rows)

    if postgresql:
        _finish_postgresql(engine)
    else:
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()

    rng.shuffle(holders)
    rng.shuffle(pac_off)
    _write_lines(out / "ids.txt", (user_id for user_id, _ in holders))
    _write_lines(out / "emails.txt", (email for _, email in holders))
    _write_lines(out / "pac_off.txt", pac_off)
    _write_lines(out / "me_users.txt", (user_id for user_id, _ in holders[:64]))
    return (
        f"{counts['users']} users ({len(holders)} holding PAC accounts, {len(pac_off)} with PAC "
        f"off), {counts['pac_accounts']} PAC accounts, {counts['dial_in_numbers']} dial-in numbers"
    )


def _is_postgresql(url: str) -> bool:
    return "://" in url and database_url(url).get_backend_name() == "postgresql"


def _drop_zoompac_tables(engine: Engine) -> None:
    """Drop zoompac's tables and Alembic's version table, so that migrate() starts afresh."""
    metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _finish_postgresql(engine: Engine) -> None:
    """Move the id sequences past the ids written here, then VACUUM ANALYZE.

    The rows above carry their own ids, which leaves the sequences at 1, so the server's own
    inserts would collide. VACUUM ANALYZE gives the planner its statistics now, so autovacuum
    does not start on its own in the middle of a measured run.
    """
    with engine.begin() as connection:
        for table in (pac_accounts, dial_in_numbers):
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table.name}), false)"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def _app(client_id: str, secret: str, kind: AppKind, scopes: str, now: int) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "client_secret_hash": hash_client_secret(secret),
        "kind": kind.value,
        "account_id": ACCOUNT_ID,
        "scopes": scopes,
        "redirect_uri": USER_APP_REDIRECT_URI if kind is AppKind.USER else None,
        "active": True,
        "created_at": now,
    }


def _pac_bound(user_count: int) -> int:
    # Enough distinct conference ids for the worst case of the random draws above.
    return user_count * 2


def _chunks(items: range, size: int) -> Iterator[range]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _user_id(rng: random.Random) -> str:
    # Zoom-style: 22 characters of base64url.
    return base64.urlsafe_b64encode(rng.randbytes(16)).decode().rstrip("=")


def _email(rng: random.Random, index: int) -> str:
    local = f"{rng.choice(FIRST_NAMES)}.{rng.choice(LAST_NAMES)}{index}"
    return _recase(rng, f"{local}@{rng.choice(DOMAINS)}")


def _recase(rng: random.Random, text: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        return text.lower()
    if style == 1:
        return text.upper()
    if style == 2:
        return text.title()
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def _write_lines(path: Path, lines: Iterator[str] | list[str]) -> None:
    with path.open("w", encoding="utf-8") as file:
        for line in lines:
            file.write(line)
            file.write("\n")


if __name__ == "__main__":
    main()
