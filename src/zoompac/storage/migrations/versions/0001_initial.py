"""Create accounts, apps, users, PAC accounts, dial-in numbers and access tokens.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_state",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_server_state"),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("plan", sa.String(16), nullable=False),
        sa.Column("audio_conferencing", sa.Boolean, nullable=False),
        sa.Column("pac_enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
    )
    op.create_table(
        "apps",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.Column("client_secret_hash", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_apps"),
        sa.UniqueConstraint("client_id", name="uq_apps_client_id"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_apps_account_id_accounts", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(128), nullable=False),
        sa.Column("email_key", sa.String(128), nullable=False),
        sa.Column("first_name", sa.String(64), nullable=False),
        sa.Column("last_name", sa.String(64), nullable=False),
        sa.Column("type", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("pac_enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email_key", name="uq_users_email_key"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_users_account_id_accounts", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_users_account_id", "users", ["account_id"])
    op.create_table(
        "pac_accounts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("conference_id", sa.BigInteger, nullable=False),
        sa.Column("participant_password", sa.String(16), nullable=False),
        sa.Column("listen_only_password", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pac_accounts"),
        sa.UniqueConstraint(
            "account_id", "conference_id", name="uq_pac_accounts_account_conference"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_pac_accounts_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_pac_accounts_account_id_accounts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_pac_accounts_user_id", "pac_accounts", ["user_id"])
    op.create_table(
        "dial_in_numbers",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("pac_account_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("country", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dial_in_numbers"),
        sa.ForeignKeyConstraint(
            ["pac_account_id"],
            ["pac_accounts.id"],
            name="fk_dial_in_numbers_pac_account_id_pac_accounts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_dial_in_numbers_pac_account_id", "dial_in_numbers", ["pac_account_id"])
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("app_id", sa.Integer, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("scopes", sa.Text, nullable=False),
        sa.Column("issued_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_tokens"),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name="fk_access_tokens_app_id_apps", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_access_tokens_app_id", "access_tokens", ["app_id"])


def downgrade() -> None:
    op.drop_table("access_tokens")
    op.drop_table("dial_in_numbers")
    op.drop_table("pac_accounts")
    op.drop_table("users")
    op.drop_table("apps")
    op.drop_table("accounts")
    op.drop_table("server_state")
