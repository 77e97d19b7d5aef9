"""The storage backend that server tests run on: SQLite files, or PostgreSQL with Redis.

`ZOOMPAC_TEST_BACKEND=postgres` runs every test that starts `zoompac serve` a second time,
against one PostgreSQL and one Redis server that this module starts on first use and stops when
the test process exits. Each server data folder gets a database and a Redis key prefix of its own.
"""

from __future__ import annotations

import atexit
import hashlib
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tests.services import PostgresServer, RedisServer


@dataclass
class PostgresBackend:
    postgres: PostgresServer
    redis: RedisServer
    _databases: dict[Path, str] = field(default_factory=dict)

    def database_for(self, data_dir: Path) -> str:
        if data_dir not in self._databases:
            name = "zoompac_" + hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]
            self._databases[data_dir] = self.postgres.create_database(name)
        return self._databases[data_dir]

    def prefix_for(self, data_dir: Path) -> str:
        return "zoompac-" + hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]

    def stop(self) -> None:
        self.redis.stop()
        self.postgres.remove()


@cache
def shared_backend() -> PostgresBackend | None:
    if os.environ.get("ZOOMPAC_TEST_BACKEND", "sqlite") != "postgres":
        return None
    postgres = PostgresServer().start()
    redis = RedisServer(postgres.data_dir.parent / "redis").start()
    backend = PostgresBackend(postgres, redis)
    atexit.register(backend.stop)
    return backend
