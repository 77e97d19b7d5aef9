"""Value objects of the emulated Zoom account model."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Plan(enum.StrEnum):
    """An account's base plan, named as in Zoom's rate-limit and plan tables."""

    FREE = "free"
    BASIC = "basic"
    PRO = "pro"
    BUSINESS = "business"
    EDUCATION = "education"
    ENTERPRISE = "enterprise"
    PARTNER = "partner"

    @property
    def is_pro_or_higher(self) -> bool:
        return self not in (Plan.FREE, Plan.BASIC)


class AppKind(enum.StrEnum):
    """The kind of an app: its tokens act for the whole account, or on behalf of one user."""

    SERVER_TO_SERVER = "server_to_server"
    USER = "user"


class UserStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    PENDING = "pending"


class DialInKind(enum.StrEnum):
    DEDICATED = "dedicated"
    GLOBAL = "global"


class ConferenceIdFormat(enum.StrEnum):
    """The JSON type of `conference_id` in PAC responses."""

    STRING = "string"
    INTEGER = "integer"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    plan: Plan
    audio_conferencing: bool
    pac_enabled: bool

    @property
    def offers_pac(self) -> bool:
        """Whether users of this account may hold PAC accounts at all."""
        return self.plan.is_pro_or_higher and self.audio_conferencing and self.pac_enabled


@dataclass(frozen=True, slots=True)
class App:
    id: int
    client_id: str
    client_secret_hash: str
    kind: AppKind
    account_id: str
    scopes: tuple[str, ...]
    redirect_uri: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class User:
    id: str
    account_id: str
    email: str
    first_name: str
    last_name: str
    type: int
    status: UserStatus
    pac_enabled: bool
    created_at: datetime

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True, slots=True)
class PacUser:
    """The facts about a user that the PAC rules check, without the rest of `User`.

    The request path looks users up by this narrower record, so a cache of many stays small.
    """

    id: str
    account_id: str
    pac_enabled: bool


@dataclass(frozen=True, slots=True)
class DialInNumber:
    kind: DialInKind
    number: str
    country: str


@dataclass(frozen=True, slots=True)
class PacAccount:
    conference_id: int
    participant_password: str
    listen_only_password: str
    dial_in_numbers: tuple[DialInNumber, ...] = field(default=())

    def numbers_of(self, kind: DialInKind) -> tuple[DialInNumber, ...]:
        return tuple(number for number in self.dial_in_numbers if number.kind is kind)


@dataclass(frozen=True, slots=True)
class Grant:
    """The rights of a valid access token: the identity checked on every API call."""

    token_id: str
    app_id: int
    client_id: str
    account_id: str
    user_id: str | None
    scopes: frozenset[str]
    expires_at: datetime
