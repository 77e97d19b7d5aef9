"""Server settings, read from `ZOOMPAC_*` environment variables and overridden by CLI options."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from zoompac.domain.models import ConferenceIdFormat


def default_data_dir() -> Path:
    """Return the folder of the default SQLite file: `~/.local/share/zoompac` on Linux."""
    return user_data_path("zoompac", appauthor=False)


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'zoompac.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZOOMPAC_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=0, le=65535)
    database: str = Field(default_factory=default_database_url)
    demo: bool = False
    # Redis URL for state shared between workers: rate-limit counters. Unset keeps it in-process.
    redis: str | None = Field(default=None, repr=False)
    # Prefix of every Redis key, so several deployments can share one Redis server.
    redis_prefix: str = Field(default="zoompac", pattern=r"^[A-Za-z0-9_.:-]+$")
    workers: int = Field(default=1, ge=1, le=256)
    conference_id_format: ConferenceIdFormat = ConferenceIdFormat.STRING
    # Access-token lifetime in seconds, at most ten years.
    token_lifetime: int = Field(default=3600, ge=1, le=10 * 366 * 86_400)
    revoke_older_tokens: bool = False
    rate_limits: bool = True
    # Overrides such as "pro.light=2" or "free.light.daily=100"; see `parse_overrides`.
    rate_limit: list[str] = Field(default_factory=list)
    # Approve every authorization request at once as this user (an id or an e-mail), for tests.
    auto_approve_user: str | None = None
    # Start the server clock at this UTC instant; it then advances in real time.
    clock_start: datetime | None = None
    # Seed of every generated id, password, token and tracking id; unset means unpredictable.
    seed: int | None = None
    # The control plane under /zoompac/: on by default only when the server listens on loopback.
    control_plane: bool | None = None
    # Bearer token that the control plane requires; generated into the data folder when unset.
    admin_token: str | None = Field(default=None, repr=False)
    # The `api_url` that token responses advertise; by default the server's own address.
    api_url: str | None = None
    log_level: str = "info"

    def public_api_url(self) -> str:
        if self.api_url:
            return self.api_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def control_plane_enabled(self) -> bool:
        if self.control_plane is not None:
            return self.control_plane
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
