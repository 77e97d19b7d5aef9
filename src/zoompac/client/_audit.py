"""An account-wide PAC audit: list the users, then fetch each one's PAC accounts concurrently.

Users are fetched while the listing goes on, by a fixed number of workers, and the client's
pacer keeps them within the account's rate limit. A failure for one user is recorded and the
audit goes on. A failure that would repeat for every user (no token, missing scopes, the daily
limit, an unreachable server) stops it, and the users listed but not yet fetched are recorded
as not fetched. Nothing already fetched is dropped either way.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from zoompac.client._client import AsyncClient
from zoompac.client._errors import (
    InvalidTokenError,
    MissingScopesError,
    NotFetchedError,
    PacNotEnabledError,
    RateLimitedError,
    TokenCacheError,
    TokenError,
    ZoomClientError,
    ZoomTransportError,
)
from zoompac.client._models import PacAccount, User

DEFAULT_CONCURRENCY = 16


class AuditOutcome(enum.StrEnum):
    """The outcome of one user's PAC lookup."""

    PAC_ACCOUNTS = "pac_accounts"  # PAC is on and the user has at least one PAC account
    NO_PAC_ACCOUNTS = "no_pac_accounts"  # PAC is on, but the list is empty
    PAC_DISABLED = "pac_disabled"  # the user's PAC setting is off (code 2024)
    ACCOUNT_PAC_DISABLED = "account_pac_disabled"  # the account offers no PAC (code 200)
    FAILED = "failed"  # an error other than the above, after retries, or not fetched


@dataclass(slots=True)
class AuditRecord:
    user: User
    outcome: AuditOutcome
    pac_accounts: list[PacAccount] = field(default_factory=list)
    error: ZoomClientError | None = None


@dataclass(slots=True)
class AuditResult:
    """Every listed user's record, in listing order.

    `stopped_by` is the error that ended the audit early, if one did; the user list may then be
    incomplete too.
    """

    records: list[AuditRecord]
    stopped_by: ZoomClientError | None = None

    @property
    def failures(self) -> list[AuditRecord]:
        return [record for record in self.records if record.outcome is AuditOutcome.FAILED]

    @property
    def succeeded(self) -> bool:
        return self.stopped_by is None and not self.failures

    def count(self, outcome: AuditOutcome) -> int:
        return sum(1 for record in self.records if record.outcome is outcome)


RecordHook = Callable[[AuditRecord], None]
ListedHook = Callable[[int], None]


async def audit_pac_accounts(
    client: AsyncClient,
    *,
    status: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_listed: ListedHook | None = None,
    on_record: RecordHook | None = None,
) -> AuditResult:
    """Audit the PAC accounts of every user of the client's account with `status`.

    `on_listed` gets the count of users listed so far, `on_record` each finished record; both
    are meant for progress displays.
    """
    if concurrency < 1:
        raise ValueError(f"Expected a concurrency of at least 1, but got {concurrency!r}.")
    run = _AuditRun(client, concurrency, on_listed, on_record)
    async with asyncio.TaskGroup() as group:
        group.create_task(run.list_users(status))
        for _ in range(concurrency):
            group.create_task(run.fetch())
    ordered = [run.records[index] for index in sorted(run.records)]
    return AuditResult(ordered, run.stopped_by)


class _AuditRun:
    def __init__(
        self,
        client: AsyncClient,
        concurrency: int,
        on_listed: ListedHook | None,
        on_record: RecordHook | None,
    ) -> None:
        self.client = client
        self.concurrency = concurrency
        self.on_listed = on_listed
        self.on_record = on_record
        # Bounded, so that a fast listing does not run far ahead of the fetches.
        self.queue: asyncio.Queue[tuple[int, User] | None] = asyncio.Queue(concurrency * 4)
        self.records: dict[int, AuditRecord] = {}
        self.stopped_by: ZoomClientError | None = None

    async def list_users(self, status: str | None) -> None:
        listed = 0
        try:
            async for user in self.client.iter_users(status=status):
                if self.stopped_by is not None:
                    break
                await self.queue.put((listed, user))
                listed += 1
                if self.on_listed is not None:
                    self.on_listed(listed)
        except ZoomClientError as exc:
            self._stop(exc)
        finally:
            for _ in range(self.concurrency):
                await self.queue.put(None)

    async def fetch(self) -> None:
        while (item := await self.queue.get()) is not None:
            index, user = item
            if self.stopped_by is not None:
                record = AuditRecord(
                    user, AuditOutcome.FAILED, error=NotFetchedError(self.stopped_by)
                )
            else:
                record = await self._audit_user(user)
            self.records[index] = record
            if self.on_record is not None:
                self.on_record(record)

    async def _audit_user(self, user: User) -> AuditRecord:
        try:
            pac_accounts = await self.client.list_pac_accounts(user.ref)
        except PacNotEnabledError as exc:
            if exc.account_wide:
                return AuditRecord(user, AuditOutcome.ACCOUNT_PAC_DISABLED)
            return AuditRecord(user, AuditOutcome.PAC_DISABLED)
        except ZoomClientError as exc:
            if _ends_audit(exc):
                self._stop(exc)
            return AuditRecord(user, AuditOutcome.FAILED, error=exc)
        if not pac_accounts:
            return AuditRecord(user, AuditOutcome.NO_PAC_ACCOUNTS)
        return AuditRecord(user, AuditOutcome.PAC_ACCOUNTS, pac_accounts)

    def _stop(self, error: ZoomClientError) -> None:
        if self.stopped_by is None:
            self.stopped_by = error


def _ends_audit(error: ZoomClientError) -> bool:
    """Return whether `error` would repeat for every remaining user, so going on wastes calls."""
    if isinstance(error, RateLimitedError):
        return error.is_daily
    return isinstance(
        error,
        TokenError | TokenCacheError | InvalidTokenError | MissingScopesError | ZoomTransportError,
    )
