"""Alembic environment: migrates the connection that `zoompac.storage.database` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from zoompac.storage.tables import metadata

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Run migrations through `zoompac migrate` or `zoompac serve`, which pass a connection."
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place, so Alembic rebuilds tables there.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
