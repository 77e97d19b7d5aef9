"""`zoompac pac`: call the PAC API of real Zoom or of a zoompac server."""

from __future__ import annotations

import json
from typing import Any

import click
import httpx
from rich.console import Console
from rich.table import Table

from zoompac.client import (
    DEFAULT_BASE_URL,
    DEFAULT_TOKEN_URL,
    Credentials,
    TokenError,
    ZoomClient,
)

MASK = "******"
PASSWORD_KEYS = ("participant_password", "listen_only_password")


@click.group()
def pac() -> None:
    """Personal Audio Conference (PAC) accounts."""


@pac.command("list")
@click.argument("user")
@click.option(
    "--base-url",
    default=DEFAULT_BASE_URL,
    show_default=True,
    envvar="ZOOM_BASE_URL",
    help="Base URL of the Zoom API, ending in /v2 [env: ZOOM_BASE_URL]",
)
@click.option(
    "--token-url",
    default=DEFAULT_TOKEN_URL,
    show_default=True,
    envvar="ZOOM_TOKEN_URL",
    help="OAuth token endpoint [env: ZOOM_TOKEN_URL]",
)
@click.option(
    "--account-id",
    envvar="ZOOM_ACCOUNT_ID",
    help="Server-to-Server app's account id [env: ZOOM_ACCOUNT_ID]",
)
@click.option("--client-id", envvar="ZOOM_CLIENT_ID", help="App's client id [env: ZOOM_CLIENT_ID]")
@click.option(
    "--client-secret",
    envvar="ZOOM_CLIENT_SECRET",
    help="App's client secret [env: ZOOM_CLIENT_SECRET]",
)
@click.option(
    "--token",
    envvar="ZOOM_ACCESS_TOKEN",
    help="A ready access token; skips the token request [env: ZOOM_ACCESS_TOKEN]",
)
@click.option(
    "--output",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
    help="json prints the response body; table prints one row per PAC account and dial-in number",
)
@click.option("--show-passwords", is_flag=True, help="Print PAC passwords instead of masking them.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Timeout of each HTTP request, in seconds",
)
def list_command(
    user: str,
    base_url: str,
    token_url: str,
    account_id: str | None,
    client_id: str | None,
    client_secret: str | None,
    token: str | None,
    output: str,
    show_passwords: bool,
    timeout: float,
) -> None:
    """List the PAC accounts of USER (a user id, an e-mail address or `me`)."""
    credentials = None
    if token is None:
        credentials = _credentials(account_id, client_id, client_secret)

    client = ZoomClient(
        credentials=credentials,
        access_token=token,
        base_url=base_url,
        token_url=token_url,
        timeout=httpx.Timeout(timeout),
    )
    try:
        with client:
            response = client.get_user_pac_accounts_response(user)
    except TokenError as exc:
        _fail_with_response(str(exc), exc.response)
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"The request failed: {exc}. Check --base-url and --token-url."
        ) from exc

    body = _json_body(response)
    if response.status_code >= 400:
        _fail_with_response(f"The API returned HTTP {response.status_code}.", response)

    if not show_passwords:
        body = _mask_passwords(body)
    if output == "table":
        _print_table(body)
    else:
        click.echo(json.dumps(body, indent=2))
    click.echo(f"Response status code: {response.status_code}", err=True)


def _credentials(
    account_id: str | None, client_id: str | None, client_secret: str | None
) -> Credentials:
    missing = [
        option
        for option, value in (
            ("--account-id", account_id),
            ("--client-id", client_id),
            ("--client-secret", client_secret),
        )
        if not value
    ]
    if missing:
        raise click.UsageError(
            f"Missing {', '.join(missing)}. Pass them, set ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and "
            "ZOOM_CLIENT_SECRET, or pass a ready --token."
        )
    return Credentials(str(account_id), str(client_id), str(client_secret))


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
        {key: (MASK if key in PASSWORD_KEYS and value else value) for key, value in entry.items()}
        if isinstance(entry, dict)
        else entry
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
    Console(soft_wrap=True).print(table)
