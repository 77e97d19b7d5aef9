"""`zoompac pac audit`: the PAC accounts of every user of an account, as JSON, JSON Lines or CSV."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from zoompac.cli.config import CONNECTION_PARAMS, Target, connection_options, resolve_target
from zoompac.client import (
    AsyncClient,
    AuditOutcome,
    AuditRecord,
    AuditResult,
    DialInNumber,
    NotFetchedError,
    PacAccount,
    RetryPolicy,
    ZoomAPIError,
    ZoomClientError,
    audit_pac_accounts,
)
from zoompac.client._audit import DEFAULT_CONCURRENCY

MASK = "******"
PASSWORD_KEYS = ("participant_password", "listen_only_password")
# One row per PAC account and dial-in number; docs/client.md describes each column.
CSV_COLUMNS = (
    "user_id",
    "email",
    "user_status",
    "pac_status",
    "conference_id",
    "participant_password",
    "listen_only_password",
    "dial_in_type",
    "dial_in_number",
    "dial_in_country",
    "http_status",
    "error_code",
    "error_message",
    "tracking_id",
)
# Failures past this many are counted on stderr, not listed; the output file lists them all.
MAX_LISTED_FAILURES = 20


@click.command("audit")
@connection_options
@click.option(
    "--status",
    type=click.Choice(["active", "inactive", "pending"]),
    default="active",
    show_default=True,
    help="Audit the users with this status",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "jsonl", "csv"]),
    default="json",
    show_default=True,
    help=(
        "json: one document; jsonl: one user per line; csv: one row per PAC account and "
        "dial-in number"
    ),
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    default=Path("-"),
    help="File to write; - for stdout [default: stdout]",
)
@click.option("--show-passwords", is_flag=True, help="Write PAC passwords instead of masking them.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="PAC lookups in flight at once; the rate limit still paces them",
)
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    help=(
        "Seconds one call may spend waiting on rate limits and retries; a daily limit that "
        "resets later than this stops the audit"
    ),
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar on stderr [default: only when stderr is a terminal]",
)
@click.pass_context
def audit(
    ctx: click.Context,
    /,
    status: str,
    output_format: str,
    output: Path,
    show_passwords: bool,
    concurrency: int,
    max_wait: float,
    progress: bool | None,
    **params: Any,
) -> None:
    """Audit the PAC accounts of every user of the account.

    Users whose PAC setting is off, or who have no PAC accounts, are listed with that status.
    Failures are listed on stderr and in the output, and make the exit status 1.
    """
    target = resolve_target(ctx, {name: params[name] for name in CONNECTION_PARAMS})
    auth = target.auth()
    console = Console(stderr=True)
    show_progress = console.is_terminal if progress is None else progress
    result = asyncio.run(
        _run_audit(target, auth, status, concurrency, max_wait, console, show_progress)
    )

    with _open_output(output) as stream:
        write_result(result, output_format, stream, show_passwords=show_passwords)
    _report(result, status)
    if not result.succeeded:
        raise SystemExit(1)


async def _run_audit(
    target: Target,
    auth: Any,
    status: str,
    concurrency: int,
    max_wait: float,
    console: Console,
    show_progress: bool,
) -> AuditResult:
    client = AsyncClient(
        auth,
        base_url=target.base_url,
        timeout=httpx.Timeout(target.timeout),
        retry=RetryPolicy(max_wait=max_wait),
        plan=target.plan,
    )
    async with client:
        if not show_progress:
            return await audit_pac_accounts(client, status=status, concurrency=concurrency)
        columns = (
            TextColumn("Auditing PAC accounts"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("audit", total=None)
            return await audit_pac_accounts(
                client,
                status=status,
                concurrency=concurrency,
                on_listed=lambda listed: bar.update(task, total=listed),
                on_record=lambda _record: bar.advance(task),
            )


@contextmanager
def _open_output(path: Path) -> Iterator[IO[str]]:
    if str(path) == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        stream = path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise click.ClickException(
            f"Cannot write the output file {str(path)!r}: {exc.strerror}. Choose another --output."
        ) from exc
    with stream:
        yield stream


def write_result(
    result: AuditResult, output_format: str, stream: IO[str], *, show_passwords: bool
) -> None:
    """Write the audit in `json`, `jsonl` or `csv`; docs/client.md documents each shape."""
    records = [_record_document(record, show_passwords) for record in result.records]
    if output_format == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for record in result.records:
            writer.writerows(csv_rows(record, show_passwords))
    elif output_format == "jsonl":
        for document in records:
            stream.write(json.dumps(document, ensure_ascii=False) + "\n")
    else:
        document = {
            "summary": _summary(result),
            "stopped_by": _error_document(result.stopped_by),
            "users": records,
        }
        stream.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def csv_rows(record: AuditRecord, show_passwords: bool) -> list[list[str]]:
    """Build one row per PAC account and dial-in number, and one for a user without any."""
    user = record.user
    base = [user.id or "", user.email, user.status or "", record.outcome.value]
    error = _error_cells(record.error)
    if not record.pac_accounts:
        return [base + [""] * 6 + error]
    rows = []
    for pac_account in record.pac_accounts:
        entry = _pac_document(pac_account, show_passwords)
        numbers: list[tuple[str, DialInNumber | None]] = [
            ("dedicated", n) for n in pac_account.dedicated_dial_in_number
        ]
        numbers += [("global", n) for n in pac_account.global_dial_in_numbers]
        pac_cells = [
            _cell(entry.get("conference_id")),
            _cell(entry.get("participant_password")),
            _cell(entry.get("listen_only_password")),
        ]
        for kind, number in numbers or [("", None)]:
            dial_in = [kind, _cell(number and number.number), _cell(number and number.country)]
            rows.append(base + pac_cells + dial_in + error)
    return rows


def mask_passwords(entry: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a PAC account body with its non-empty passwords masked."""
    return {
        key: (MASK if key in PASSWORD_KEYS and value else value) for key, value in entry.items()
    }


def _pac_document(pac_account: PacAccount, show_passwords: bool) -> dict[str, Any]:
    document = pac_account.model_dump(mode="json")
    return document if show_passwords else mask_passwords(document)


def _record_document(record: AuditRecord, show_passwords: bool) -> dict[str, Any]:
    user = record.user
    return {
        "id": user.id,
        "email": user.email,
        "status": user.status,
        "pac_status": record.outcome.value,
        "pac_accounts": [_pac_document(p, show_passwords) for p in record.pac_accounts],
        "error": _error_document(record.error),
    }


def _error_document(error: ZoomClientError | None) -> dict[str, Any] | None:
    if error is None:
        return None
    if isinstance(error, ZoomAPIError):
        return {
            "http_status": error.status_code,
            "code": error.code,
            "message": str(error),
            "tracking_id": error.tracking_id,
        }
    return {"http_status": None, "code": None, "message": str(error), "tracking_id": None}


def _error_cells(error: ZoomClientError | None) -> list[str]:
    document = _error_document(error)
    if document is None:
        return ["", "", "", ""]
    return [
        _cell(document["http_status"]),
        _cell(document["code"]),
        document["message"],
        _cell(document["tracking_id"]),
    ]


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _summary(result: AuditResult) -> dict[str, Any]:
    return {
        "users": len(result.records),
        "with_pac_accounts": result.count(AuditOutcome.PAC_ACCOUNTS),
        "pac_accounts": sum(len(record.pac_accounts) for record in result.records),
        "without_pac_accounts": result.count(AuditOutcome.NO_PAC_ACCOUNTS),
        "pac_disabled": result.count(AuditOutcome.PAC_DISABLED),
        "account_pac_disabled": result.count(AuditOutcome.ACCOUNT_PAC_DISABLED),
        "failed": len(result.failures),
        "complete": result.stopped_by is None,
    }


def _report(result: AuditResult, status: str) -> None:
    """List the failures and print the summary on stderr."""
    failures = result.failures
    listed = [record for record in failures if not isinstance(record.error, NotFetchedError)]
    for record in listed[:MAX_LISTED_FAILURES]:
        click.echo(f"Failed: {_describe_user(record)}: {record.error}", err=True)
    if len(listed) > MAX_LISTED_FAILURES:
        click.echo(
            f"... and {len(listed) - MAX_LISTED_FAILURES} more failures; the output lists "
            "every one.",
            err=True,
        )
    if result.stopped_by is not None:
        not_fetched = len(failures) - len(listed)
        click.echo(
            f"Stopped early: {result.stopped_by} {not_fetched} listed user(s) were not fetched, "
            "and the user list may be incomplete.",
            err=True,
        )
    summary = _summary(result)
    click.echo(
        f"Audited {summary['users']} {status} user(s): {summary['with_pac_accounts']} with PAC "
        f"accounts ({summary['pac_accounts']} PAC accounts), {summary['without_pac_accounts']} "
        f"without PAC accounts, {summary['pac_disabled']} with PAC off, "
        f"{summary['account_pac_disabled']} in an account without PAC, "
        f"{summary['failed']} failed.",
        err=True,
    )


def _describe_user(record: AuditRecord) -> str:
    user = record.user
    return f"{user.email} ({user.id})" if user.id else user.email
