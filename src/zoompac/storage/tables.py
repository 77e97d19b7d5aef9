"""The relational schema. Alembic migrations under `migrations/` create and evolve it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Constraint names are fixed so that migrations can refer to them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

server_state = Table(
    "server_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("plan", String(16), nullable=False),
    Column("audio_conferencing", Boolean, nullable=False),
    Column("pac_enabled", Boolean, nullable=False),
    # Unix seconds: portable across SQLite and PostgreSQL and cheap to compare.
    Column("created_at", BigInteger, nullable=False),
)

apps = Table(
    "apps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(128), nullable=False, unique=True),
    Column("client_secret_hash", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("account_id", String(64), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("scopes", Text, nullable=False),  # Space-separated, as in a token response.
    Column("redirect_uri", Text, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "account_id",
        String(64),
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("email", String(128), nullable=False),
    # The lower-cased e-mail: the unique key that makes e-mail lookups case-insensitive.
    Column("email_key", String(128), nullable=False, unique=True),
    Column("first_name", String(64), nullable=False),
    Column("last_name", String(64), nullable=False),
    Column("type", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("pac_enabled", Boolean, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Covering indexes, on SQLite only: the PAC endpoint's user lookups there read these alone
    # (migration 0003).
    Index("ix_users_pac_by_id", "id", "account_id", "pac_enabled").ddl_if(dialect="sqlite"),
    Index("ix_users_pac_by_email", "email_key", "id", "account_id", "pac_enabled").ddl_if(
        dialect="sqlite"
    ),
)

pac_accounts = Table(
    "pac_accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(64), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", String(64), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("conference_id", BigInteger, nullable=False),
    Column("participant_password", String(16), nullable=False),
    Column("listen_only_password", String(16), nullable=False),
    UniqueConstraint("account_id", "conference_id", name="uq_pac_accounts_account_conference"),
    Index(
        "ix_pac_accounts_by_user",
        "user_id",
        "id",
        "conference_id",
        "participant_password",
        "listen_only_password",
    ),
)

dial_in_numbers = Table(
    "dial_in_numbers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "pac_account_id",
        Integer,
        ForeignKey("pac_accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String(16), nullable=False),
    Column("number", String(32), nullable=False),
    Column("country", String(64), nullable=False),
    Index("ix_dial_in_numbers_by_pac_account", "pac_account_id", "id", "kind", "number", "country"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("app_id", Integer, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("user_id", String(64), nullable=True),
    Column("scopes", Text, nullable=False),  # Fixed when the token is issued.
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Index("ix_access_tokens_app_id", "app_id"),
)

# Authorization codes and refresh tokens are bearer secrets, so only their SHA-256 is stored.
authorization_codes = Table(
    "authorization_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("app_id", Integer, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(64), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used", Boolean, nullable=False),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("app_id", Integer, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(64), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used", Boolean, nullable=False),
)
