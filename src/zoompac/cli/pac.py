"""`zoompac pac`: call the PAC API of real Zoom or of a zoompac server."""

from __future__ import annotations

import json
from typing import Any

import click
import httpx
from rich.table import Table

from zoompac.cli.audit import audit, mask_passwords
from zoompac.cli.config import CONNECTION_PARAMS, connection_options, resolve_target
from zoompac.cli.options import table_console
from zoompac.client import (
    Client,
    TokenError,
    ZoomAPIError,
    ZoomClientError,
    ZoomTransportError,
    user_path_segment,
)


@click.group()
def pac() -> None:
    """Personal Audio Conference (PAC) accounts."""


pac.add_command(audit)


@pac.command("list")
@click.argument("user")
@connection_options
@click.option(
    "--output",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="json prints the response body; table prints one row per PAC account and dial-in number",
)
@click.option("--show-passwords", is_flag=True, help="Print PAC passwords instead of masking them.")
@click.pass_context
def list_command(
    ctx: click.Context, /, user: str, output: str, show_passwords: bool, **params: Any
) -> None:
    """List the PAC accounts of USER (a user id, an e-mail address or `me`)."""
    target = resolve_target(ctx, {name: params[name] for name in CONNECTION_PARAMS})
    client = Client(
        target.auth(),
        base_url=target.base_url,
        timeout=httpx.Timeout(target.timeout),
        plan=target.plan,
    )
    try:
        with client:
            # The raw response, so the JSON output is the body exactly as the server sent it.
            response = client.request(
                "GET", f"users/{user_path_segment(user)}/pac", category="Light"
            )
    except TokenError as exc:
        summary = f"The token endpoint returned HTTP {exc.status_code}."
        _fail_with_response(summary if exc.response is not None else str(exc), exc.response)
    except ZoomAPIError as exc:
        _fail_with_response(f"The API returned HTTP {exc.status_code}.", exc.response)
    except ZoomTransportError as exc:
        raise click.ClickException(
            f"The request failed: {exc} Check --base-url and --token-url."
        ) from exc
    except ZoomClientError as exc:
        raise click.ClickException(str(exc)) from exc

    body = _json_body(response)
    if not show_passwords:
        body = _mask_passwords(body)
    if output == "table":
        _print_table(body)
    else:
        click.echo(json.dumps(body, indent=2))
    click.echo(f"Response status code: {response.status_code}", err=True)


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _fail_with_response(summary: str, response: httpx.Response | None) -> None:
    """Print a failed response as the seed's client sample does, then exit with status 1."""
    if response is not None:
        body = _json_body(response)
        if body is not None:
            click.echo(json.dumps(body, indent=2))
        else:
            click.echo(response.text[:500])
        click.echo(f"Response status code: {response.status_code}", err=True)
        click.echo("Response headers:", err=True)
        for name, value in response.headers.items():
            click.echo(f"  {name}: {value}", err=True)
        if isinstance(body, dict):
            if "code" in body:
                click.echo(f"Zoom error code: {body['code']}", err=True)
                click.echo(f"Message: {body.get('message', '')}", err=True)
            elif "error" in body:
                click.echo(f"OAuth error: {body['error']}", err=True)
                click.echo(f"Reason: {body.get('reason', '')}", err=True)
    click.echo(summary, err=True)
    click.echo("Failed.", err=True)
    raise SystemExit(1)


def _mask_passwords(body: Any) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("pac_accounts"), list):
        return body
    masked = dict(body)
    masked["pac_accounts"] = [
        mask_passwords(entry) if isinstance(entry, dict) else entry
        for entry in body["pac_accounts"]
    ]
    return masked


def _print_table(body: Any) -> None:
    table = Table(
        "conference_id", "participant_password", "listen_only_password", "type", "number", "country"
    )
    for entry in body.get("pac_accounts", []) if isinstance(body, dict) else []:
        rows = [("dedicated", n) for n in entry.get("dedicated_dial_in_number", [])]
        rows += [("global", n) for n in entry.get("global_dial_in_numbers", [])]
        for kind, number in rows or [("", {})]:
            table.add_row(
                str(entry.get("conference_id", "")),
                str(entry.get("participant_password", "")),
                str(entry.get("listen_only_password", "")),
                kind,
                str(number.get("number", "")),
                str(number.get("country", "")),
            )
    table_console().print(table)
