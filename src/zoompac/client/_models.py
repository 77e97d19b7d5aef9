"""Typed views of Zoom's response bodies.

Every model keeps fields it does not declare (`extra="allow"`), so a field that Zoom adds later
survives a round trip through `model_dump()` instead of being dropped.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ZoomModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class DialInNumber(ZoomModel):
    number: str | None = None
    country: str | None = None


class PacAccount(ZoomModel):
    """One PAC account of a user, from `GET /users/{userId}/pac`.

    `conference_id` is an integer here whichever JSON type the server sent. Zoom's schema types
    it as an integer while its sample responses show a string of digits, and callers should not
    have to care.
    """

    conference_id: int | None = None
    participant_password: str | None = None
    listen_only_password: str | None = None
    # Zoom's keys really differ in number: `dedicated_dial_in_number` is singular.
    dedicated_dial_in_number: list[DialInNumber] = Field(default_factory=list)
    global_dial_in_numbers: list[DialInNumber] = Field(default_factory=list)

    @field_validator("conference_id", mode="before")
    @classmethod
    def _conference_id_as_int(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"Expected a conference id, but got the boolean {value!r}.")
        if isinstance(value, str):
            text = value.strip()
            if not text.isdigit():
                raise ValueError(f"Expected a conference id of digits, but got {value!r}.")
            return int(text)
        return value

    @field_validator("dedicated_dial_in_number", "global_dial_in_numbers", mode="before")
    @classmethod
    def _null_as_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class PacAccountList(ZoomModel):
    """The body of `GET /users/{userId}/pac`."""

    pac_accounts: list[PacAccount] = Field(default_factory=list)

    @field_validator("pac_accounts", mode="before")
    @classmethod
    def _null_as_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class User(ZoomModel):
    """A user as `GET /users` and `GET /users/{userId}` return one.

    Zoom leaves `id` out for pending users, who have not accepted their invitation yet.
    """

    id: str | None = None
    email: str
    type: int | None = None
    status: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    display_name: str | None = None

    @property
    def ref(self) -> str:
        """What names this user in a path: the id, or the e-mail address when there is none."""
        return self.id or self.email


class UserPage(ZoomModel):
    """One page of `GET /users`; `next_page_token` is empty on the last page."""

    next_page_token: str = ""
    page_count: int | None = None
    page_number: int | None = None
    page_size: int | None = None
    total_records: int | None = None
    users: list[User] = Field(default_factory=list)

    @field_validator("next_page_token", mode="before")
    @classmethod
    def _null_as_empty(cls, value: Any) -> Any:
        return "" if value is None else value
