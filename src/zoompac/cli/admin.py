"""`zoompac admin`: create, change, delete and list what the emulated API serves.

Each command changes the database in one transaction, so a rejected command changes nothing. A
server running over the same database reads the change at its next request. Invalid input exits
with status 2, a request that the stored data rejects (not found, already used) with status 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.table import Table
from sqlalchemy.engine import Engine

from zoompac.cli.options import database_option, open_database, table_console
from zoompac.domain.errors import Conflict, InvalidValue, NotFound
from zoompac.domain.models import (
    Account,
    App,
    AppKind,
    DialInKind,
    DialInNumber,
    PacAccount,
    Plan,
    User,
    UserStatus,
)
from zoompac.storage import admin as provisioning

F = TypeVar("F", bound=Callable[..., Any])

MASK = "******"
_USER_TYPES = ("1", "2", "4", "99")
_USER_ARGUMENT_HELP = "USER is a user id or an e-mail address in any case."
# The `zoompac admin` group whose `list` command shows what a NotFound error could not find.
_LIST_GROUP_BY_KIND = {"Account": "account", "App": "app", "User": "user"}


def _parse_dial_in_numbers(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """Split each NUMBER:COUNTRY value, such as 14155550100:US, and check both parts."""
    parsed = []
    for value in values:
        number, separator, country = value.partition(":")
        if not separator or not number or not country:
            raise click.BadParameter(
                f"{value!r} is not NUMBER:COUNTRY. Write the number, a colon and the country, "
                "for example 14155550100:US."
            )
        try:
            provisioning.check_dial_in_number(number, country)
        except InvalidValue as exc:
            raise click.BadParameter(
                f"{exc.field} {exc.value!r} in {value!r}: {exc.allowed}."
            ) from exc
        parsed.append((number, country))
    return tuple(parsed)


def _check_pac_password(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> str | None:
    if value is None:
        return None
    try:
        return provisioning.check_pac_password(value, "password")
    except InvalidValue as exc:
        raise click.BadParameter(f"{exc.field} {exc.value!r}: {exc.allowed}.") from exc


CONFERENCE_ID = click.IntRange(min=1, max=2**63 - 1)


@click.group()
def admin() -> None:
    """Create, change, delete and list accounts, apps, users and PAC accounts in the database.

    Each command changes the database in one transaction, so a rejected command changes nothing.
    A server running over the same database reads the change at its next request.
    """


@admin.group()
def account() -> None:
    """Accounts: plan, Audio Conferencing subscription and PAC setting."""


@admin.group()
def app() -> None:
    """OAuth apps: client ids, secrets, scopes and whether they are active."""


@admin.group()
def user() -> None:
    """Users of an account and their PAC setting."""


@admin.group()
def pac() -> None:
    """A user's PAC accounts and their dial-in numbers."""


def _output_option(function: F) -> F:
    return click.option(
        "--output",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="table for reading, json for scripts",
    )(function)


# Accounts


@account.command("create")
@click.argument("account_id", metavar="[ID]", required=False)
@click.option("--name", help="Display name [default: the account id]")
@click.option(
    "--plan",
    type=click.Choice([plan.value for plan in Plan]),
    default=Plan.PRO.value,
    show_default=True,
    help="Base plan; PAC needs pro or higher",
)
@click.option(
    "--audio-conferencing/--no-audio-conferencing",
    default=True,
    show_default=True,
    help="Whether the account has the Audio Conferencing subscription that PAC needs",
)
@click.option(
    "--pac/--no-pac", "pac_enabled", default=True, show_default=True, help="Account PAC setting"
)
@database_option
def account_create(
    account_id: str | None,
    name: str | None,
    plan: str,
    audio_conferencing: bool,
    pac_enabled: bool,
    database: str | None,
) -> None:
    """Create an account with ID, or with a generated 22-character id."""
    engine = _engine(database)
    with _reported():
        created = provisioning.create_account(
            engine,
            account_id,
            name=name,
            plan=Plan(plan),
            audio_conferencing=audio_conferencing,
            pac_enabled=pac_enabled,
        )
    click.echo(f"Created account {created.id}: {_describe_account(created)}.")


@account.command("update")
@click.argument("account_id", metavar="ID")
@click.option("--name", help="Display name")
@click.option("--plan", type=click.Choice([plan.value for plan in Plan]), help="Base plan")
@click.option(
    "--audio-conferencing/--no-audio-conferencing",
    default=None,
    help="Whether the account has the Audio Conferencing subscription",
)
@click.option("--pac/--no-pac", "pac_enabled", default=None, help="Account PAC setting")
@database_option
def account_update(
    account_id: str,
    name: str | None,
    plan: str | None,
    audio_conferencing: bool | None,
    pac_enabled: bool | None,
    database: str | None,
) -> None:
    """Change the name, plan, Audio Conferencing subscription or PAC setting of account ID."""
    _require_some(
        "--name, --plan, --[no-]audio-conferencing or --[no-]pac",
        name,
        plan,
        audio_conferencing,
        pac_enabled,
    )
    engine = _engine(database)
    with _reported():
        updated = provisioning.update_account(
            engine,
            account_id,
            name=name,
            plan=Plan(plan) if plan is not None else None,
            audio_conferencing=audio_conferencing,
            pac_enabled=pac_enabled,
        )
    click.echo(f"Updated account {updated.id}: {_describe_account(updated)}.")


@account.command("delete")
@click.argument("account_id", metavar="ID")
@database_option
def account_delete(account_id: str, database: str | None) -> None:
    """Delete account ID with all its apps, tokens, users and PAC accounts."""
    engine = _engine(database)
    with _reported():
        contents = provisioning.delete_account(engine, account_id)
    click.echo(
        f"Deleted account {account_id} with {contents.apps} app(s), {contents.users} user(s) "
        f"and {contents.pac_accounts} PAC account(s)."
    )


@account.command("list")
@_output_option
@database_option
def account_list(output: str, database: str | None) -> None:
    """List all accounts."""
    engine = _engine(database)
    records = [
        {
            "id": item.id,
            "name": item.name,
            "plan": item.plan.value,
            "audio_conferencing": item.audio_conferencing,
            "pac_enabled": item.pac_enabled,
            # Whether the API can return PAC accounts for this account's users at all.
            "offers_pac": item.offers_pac,
        }
        for item in provisioning.list_accounts(engine)
    ]
    _print_records(records, output)


# Apps


@app.command("create")
@click.option("--account", "account_id", required=True, help="Id of the account that owns the app")
@click.option(
    "--kind",
    type=click.Choice([kind.value for kind in AppKind]),
    default=AppKind.SERVER_TO_SERVER.value,
    show_default=True,
    help="server_to_server apps get account tokens; user apps act for one user",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="Scope the app's tokens carry, such as pac:read:admin; repeat for more",
)
@click.option("--redirect-uri", metavar="URL", help="Redirect URL; required for user apps")
@click.option("--client-id", help="Client id [default: 22 generated URL-safe characters]")
@click.option("--client-secret", help="Client secret [default: 32 generated URL-safe characters]")
@click.option("--active/--inactive", default=True, show_default=True, help="Whether tokens work")
@database_option
def app_create(
    account_id: str,
    kind: str,
    scopes: tuple[str, ...],
    redirect_uri: str | None,
    client_id: str | None,
    client_secret: str | None,
    active: bool,
    database: str | None,
) -> None:
    """Create an app and print its client id and client secret.

    The secret is printed this once: the database stores only its hash.
    """
    engine = _engine(database)
    with _reported():
        created = provisioning.create_app(
            engine,
            account_id,
            kind=AppKind(kind),
            scopes=_split_scopes(scopes),
            redirect_uri=redirect_uri,
            client_id=client_id,
            client_secret=client_secret,
            active=active,
        )
    click.echo(f"Created app in account {account_id}: {_describe_app(created.app)}.")
    _print_credentials(created)


@app.command("update")
@click.argument("client_id")
@click.option(
    "--active/--inactive",
    default=None,
    help="Whether the app's tokens work; --inactive makes issued tokens fail at once",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="Scope for tokens issued from now on; replaces all scopes; repeat for more",
)
@click.option("--redirect-uri", metavar="URL", help="Redirect URL of a user app")
@database_option
def app_update(
    client_id: str,
    active: bool | None,
    scopes: tuple[str, ...],
    redirect_uri: str | None,
    database: str | None,
) -> None:
    """Activate or deactivate the app CLIENT_ID, or change its scopes or redirect URL."""
    _require_some(
        "--active, --inactive, --scope or --redirect-uri", active, scopes or None, redirect_uri
    )
    engine = _engine(database)
    with _reported():
        updated = provisioning.update_app(
            engine,
            client_id,
            active=active,
            scopes=_split_scopes(scopes) if scopes else None,
            redirect_uri=redirect_uri,
        )
    click.echo(f"Updated app {updated.client_id}: {_describe_app(updated)}.")


@app.command("rotate-secret")
@click.argument("client_id")
@click.option("--client-secret", help="New client secret [default: 32 generated characters]")
@click.option(
    "--revoke-tokens",
    is_flag=True,
    help=(
        "Also revoke the access and refresh tokens issued so far, which otherwise work until "
        "they expire"
    ),
)
@database_option
def app_rotate_secret(
    client_id: str, client_secret: str | None, revoke_tokens: bool, database: str | None
) -> None:
    """Give the app CLIENT_ID a new client secret and print it once."""
    engine = _engine(database)
    with _reported():
        rotated = provisioning.rotate_app_secret(
            engine, client_id, client_secret=client_secret, revoke_tokens=revoke_tokens
        )
    revoked = " and revoked its tokens" if revoke_tokens else ""
    click.echo(f"Replaced the client secret of app {client_id}{revoked}.")
    _print_credentials(rotated)


@app.command("delete")
@click.argument("client_id")
@database_option
def app_delete(client_id: str, database: str | None) -> None:
    """Delete the app CLIENT_ID, whose tokens stop working at once."""
    engine = _engine(database)
    with _reported():
        deleted = provisioning.delete_app(engine, client_id)
    click.echo(f"Deleted app {deleted.client_id} of account {deleted.account_id}.")


@app.command("list")
@click.option("--account", "account_id", help="Only the apps of this account")
@_output_option
@database_option
def app_list(account_id: str | None, output: str, database: str | None) -> None:
    """List apps without their secrets, which are stored only as hashes."""
    engine = _engine(database)
    with _reported():
        apps = provisioning.list_apps(engine, account_id)
    records = [
        {
            "client_id": item.client_id,
            "account_id": item.account_id,
            "kind": item.kind.value,
            "scopes": " ".join(item.scopes),
            "redirect_uri": item.redirect_uri,
            "active": item.active,
        }
        for item in apps
    ]
    _print_records(records, output)


# Users


@user.command("create")
@click.argument("email")
@click.option("--account", "account_id", required=True, help="Id of the user's account")
@click.option("--id", "user_id", help="User id [default: 22 generated base64url characters]")
@click.option("--first-name", default="", help="First name")
@click.option("--last-name", default="", help="Last name")
@click.option(
    "--type",
    "user_type",
    type=click.Choice(_USER_TYPES),
    default="2",
    show_default=True,
    help="Zoom user type: 1 basic, 2 licensed, 4 unassigned without meetings, 99 none",
)
@click.option(
    "--status",
    type=click.Choice([status.value for status in UserStatus]),
    default=UserStatus.ACTIVE.value,
    show_default=True,
    help="User status",
)
@click.option(
    "--pac/--no-pac", "pac_enabled", default=True, show_default=True, help="User PAC setting"
)
@database_option
def user_create(
    email: str,
    account_id: str,
    user_id: str | None,
    first_name: str,
    last_name: str,
    user_type: str,
    status: str,
    pac_enabled: bool,
    database: str | None,
) -> None:
    """Create a user with the e-mail address EMAIL, unique regardless of case."""
    engine = _engine(database)
    with _reported():
        created = provisioning.create_user(
            engine,
            account_id,
            email,
            user_id=user_id,
            first_name=first_name,
            last_name=last_name,
            user_type=int(user_type),
            status=UserStatus(status),
            pac_enabled=pac_enabled,
        )
    click.echo(f"Created user {created.id} in account {account_id}: {_describe_user(created)}.")


@user.command("update", epilog=_USER_ARGUMENT_HELP)
@click.argument("user_ref", metavar="USER")
@click.option("--email", help="New e-mail address, unique regardless of case")
@click.option("--first-name", help="First name")
@click.option("--last-name", help="Last name")
@click.option("--type", "user_type", type=click.Choice(_USER_TYPES), help="Zoom user type")
@click.option(
    "--status", type=click.Choice([status.value for status in UserStatus]), help="User status"
)
@click.option("--pac/--no-pac", "pac_enabled", default=None, help="User PAC setting")
@database_option
def user_update(
    user_ref: str,
    email: str | None,
    first_name: str | None,
    last_name: str | None,
    user_type: str | None,
    status: str | None,
    pac_enabled: bool | None,
    database: str | None,
) -> None:
    """Change the e-mail address, names, type, status or PAC setting of USER."""
    _require_some(
        "--email, --first-name, --last-name, --type, --status or --[no-]pac",
        email,
        first_name,
        last_name,
        user_type,
        status,
        pac_enabled,
    )
    engine = _engine(database)
    with _reported():
        updated = provisioning.update_user(
            engine,
            user_ref,
            email=email,
            first_name=first_name,
            last_name=last_name,
            user_type=int(user_type) if user_type is not None else None,
            status=UserStatus(status) if status is not None else None,
            pac_enabled=pac_enabled,
        )
    click.echo(f"Updated user {updated.id}: {_describe_user(updated)}.")


@user.command("delete", epilog=_USER_ARGUMENT_HELP)
@click.argument("user_ref", metavar="USER")
@database_option
def user_delete(user_ref: str, database: str | None) -> None:
    """Delete USER with their PAC accounts."""
    engine = _engine(database)
    with _reported():
        deleted = provisioning.delete_user(engine, user_ref)
    click.echo(
        f"Deleted user {deleted.user.id} ({deleted.user.email}) and {deleted.pac_accounts} PAC "
        "account(s)."
    )


@user.command("list")
@click.option("--account", "account_id", help="Only the users of this account")
@_output_option
@database_option
def user_list(account_id: str | None, output: str, database: str | None) -> None:
    """List users by account and e-mail address."""
    engine = _engine(database)
    with _reported():
        users = provisioning.list_users(engine, account_id)
    records = [
        {
            "id": item.id,
            "account_id": item.account_id,
            "email": item.email,
            "first_name": item.first_name,
            "last_name": item.last_name,
            "type": item.type,
            "status": item.status.value,
            "pac_enabled": item.pac_enabled,
        }
        for item in users
    ]
    _print_records(records, output)


# PAC accounts


def _number_options(function: F) -> F:
    function = click.option(
        "--global",
        "global_numbers",
        multiple=True,
        metavar="NUMBER:COUNTRY",
        callback=_parse_dial_in_numbers,
        help="Global dial-in number, such as 14155550100:US; repeat for more",
    )(function)
    return click.option(
        "--dedicated",
        "dedicated_numbers",
        multiple=True,
        metavar="NUMBER:COUNTRY",
        callback=_parse_dial_in_numbers,
        help="Dedicated dial-in number, such as 14155550100:US; repeat for more",
    )(function)


@pac.command("create", epilog=_USER_ARGUMENT_HELP)
@click.argument("user_ref", metavar="USER")
@click.option(
    "--conference-id",
    type=CONFERENCE_ID,
    help="Conference id, unique within the account [default: a generated 10-digit id]",
)
@click.option(
    "--participant-password",
    metavar="PASSWORD",
    callback=_check_pac_password,
    help="1 to 6 characters [default: 6 generated digits]",
)
@click.option(
    "--listen-only-password",
    metavar="PASSWORD",
    callback=_check_pac_password,
    help="1 to 6 characters [default: 6 generated digits]",
)
@_number_options
@database_option
def pac_create(
    user_ref: str,
    conference_id: int | None,
    participant_password: str | None,
    listen_only_password: str | None,
    dedicated_numbers: tuple[tuple[str, str], ...],
    global_numbers: tuple[tuple[str, str], ...],
    database: str | None,
) -> None:
    """Give USER a new PAC account and print its conference id and passwords."""
    engine = _engine(database)
    with _reported():
        created = provisioning.create_pac_account(
            engine,
            user_ref,
            conference_id=conference_id,
            participant_password=participant_password,
            listen_only_password=listen_only_password,
            numbers=_numbers(dedicated_numbers, global_numbers),
        )
    click.echo(f"Created a PAC account for user {user_ref}.")
    click.echo(f"conference_id: {created.conference_id}")
    click.echo(f"participant_password: {created.participant_password}")
    click.echo(f"listen_only_password: {created.listen_only_password}")


@pac.command("update", epilog=_USER_ARGUMENT_HELP)
@click.argument("user_ref", metavar="USER")
@click.argument("conference_id", type=CONFERENCE_ID)
@click.option(
    "--participant-password",
    metavar="PASSWORD",
    callback=_check_pac_password,
    help="1 to 6 characters",
)
@click.option(
    "--listen-only-password",
    metavar="PASSWORD",
    callback=_check_pac_password,
    help="1 to 6 characters",
)
@database_option
def pac_update(
    user_ref: str,
    conference_id: int,
    participant_password: str | None,
    listen_only_password: str | None,
    database: str | None,
) -> None:
    """Change the passwords of the PAC account CONFERENCE_ID of USER."""
    _require_some(
        "--participant-password or --listen-only-password",
        participant_password,
        listen_only_password,
    )
    engine = _engine(database)
    with _reported():
        provisioning.update_pac_account(
            engine,
            user_ref,
            conference_id,
            participant_password=participant_password,
            listen_only_password=listen_only_password,
        )
    click.echo(f"Updated the passwords of PAC account {conference_id} of user {user_ref}.")


@pac.command("set-numbers", epilog=_USER_ARGUMENT_HELP)
@click.argument("user_ref", metavar="USER")
@click.argument("conference_id", type=CONFERENCE_ID)
@_number_options
@database_option
def pac_set_numbers(
    user_ref: str,
    conference_id: int,
    dedicated_numbers: tuple[tuple[str, str], ...],
    global_numbers: tuple[tuple[str, str], ...],
    database: str | None,
) -> None:
    """Replace all dial-in numbers of the PAC account CONFERENCE_ID of USER.

    Without --dedicated and --global, the PAC account is left with no numbers.
    """
    engine = _engine(database)
    with _reported():
        updated = provisioning.set_dial_in_numbers(
            engine, user_ref, conference_id, _numbers(dedicated_numbers, global_numbers)
        )
    click.echo(
        f"PAC account {conference_id} of user {user_ref} now has "
        f"{len(updated.numbers_of(DialInKind.DEDICATED))} dedicated and "
        f"{len(updated.numbers_of(DialInKind.GLOBAL))} global dial-in number(s)."
    )


@pac.command("delete", epilog=_USER_ARGUMENT_HELP)
@click.argument("user_ref", metavar="USER")
@click.argument("conference_id", type=CONFERENCE_ID)
@database_option
def pac_delete(user_ref: str, conference_id: int, database: str | None) -> None:
    """Delete the PAC account CONFERENCE_ID of USER with its dial-in numbers."""
    engine = _engine(database)
    with _reported():
        provisioning.delete_pac_account(engine, user_ref, conference_id)
    click.echo(f"Deleted PAC account {conference_id} of user {user_ref}.")


@pac.command("list", epilog=_USER_ARGUMENT_HELP)
@click.argument("user_ref", metavar="USER")
@_output_option
@click.option("--show-passwords", is_flag=True, help="Print passwords instead of masking them.")
@database_option
def pac_list(user_ref: str, output: str, show_passwords: bool, database: str | None) -> None:
    """List the PAC accounts of USER as stored, whatever the account's and user's PAC settings."""
    engine = _engine(database)
    with _reported():
        _, pac_accounts = provisioning.list_pac_accounts(engine, user_ref)
    if output == "json":
        click.echo(json.dumps([_pac_body(item, show_passwords) for item in pac_accounts], indent=2))
        return
    records = []
    for item in pac_accounts:
        body = _pac_body(item, show_passwords)
        records.append(
            {
                "conference_id": item.conference_id,
                "participant_password": body["participant_password"],
                "listen_only_password": body["listen_only_password"],
                "dedicated": _joined(item.numbers_of(DialInKind.DEDICATED)),
                "global": _joined(item.numbers_of(DialInKind.GLOBAL)),
            }
        )
    _print_records(records, output)


# Helpers


def _engine(database: str | None) -> Engine:
    """Open and migrate the database, as every command needs the newest schema."""
    return open_database(database)


@contextmanager
def _reported() -> Iterator[None]:
    """Turn rejected requests into click errors: exit status 2 for invalid input, else 1."""
    try:
        yield
    except InvalidValue as exc:
        raise click.UsageError(f"{exc}.", click.get_current_context()) from exc
    except NotFound as exc:
        group = _LIST_GROUP_BY_KIND.get(exc.kind)
        hint = f" `zoompac admin {group} list` lists them." if group else ""
        raise click.ClickException(f"{exc}{hint}") from exc
    except Conflict as exc:
        raise click.ClickException(str(exc)) from exc


def _require_some(options: str, *values: object) -> None:
    if all(value is None for value in values):
        raise click.UsageError(f"Nothing to change: pass {options}.")


def _split_scopes(scopes: Sequence[str]) -> list[str]:
    # "--scope 'a b'" gives two scopes, as the space-separated scope string of a token does.
    return [scope for value in scopes for scope in value.split()]


def _numbers(
    dedicated: Sequence[tuple[str, str]], global_numbers: Sequence[tuple[str, str]]
) -> list[DialInNumber]:
    return [
        DialInNumber(DialInKind.DEDICATED, number, country) for number, country in dedicated
    ] + [DialInNumber(DialInKind.GLOBAL, number, country) for number, country in global_numbers]


def _print_credentials(credentials: provisioning.AppCredentials) -> None:
    click.echo(f"client_id: {credentials.app.client_id}")
    click.echo(f"client_secret: {credentials.client_secret}")
    click.echo(
        "Copy the client secret now: the database stores only its hash, so it cannot be shown "
        "again."
    )


def _on_off(value: bool) -> str:
    return "on" if value else "off"


def _describe_account(item: Account) -> str:
    return (
        f"name {item.name!r}, plan {item.plan.value}, audio conferencing "
        f"{_on_off(item.audio_conferencing)}, PAC {_on_off(item.pac_enabled)}"
    )


def _describe_app(item: App) -> str:
    scopes = " ".join(item.scopes) or "none"
    redirect = f", redirect URL {item.redirect_uri}" if item.redirect_uri else ""
    state = "active" if item.active else "inactive"
    return f"{item.client_id}, {item.kind.value}, {state}, scopes {scopes}{redirect}"


def _describe_user(item: User) -> str:
    return (
        f"{item.email}, type {item.type}, status {item.status.value}, "
        f"PAC {_on_off(item.pac_enabled)}"
    )


def _pac_body(item: PacAccount, show_passwords: bool) -> dict[str, Any]:
    """Convert a PAC account to the shape of Zoom's response body, masking passwords unless
    `show_passwords`."""

    def numbers(kind: DialInKind) -> list[dict[str, str]]:
        return [{"number": n.number, "country": n.country} for n in item.numbers_of(kind)]

    return {
        "conference_id": item.conference_id,
        "participant_password": item.participant_password if show_passwords else MASK,
        "listen_only_password": item.listen_only_password if show_passwords else MASK,
        "dedicated_dial_in_number": numbers(DialInKind.DEDICATED),
        "global_dial_in_numbers": numbers(DialInKind.GLOBAL),
    }


def _joined(numbers: Sequence[DialInNumber]) -> str:
    return " ".join(f"{number.number}:{number.country}" for number in numbers)


def _print_records(records: list[dict[str, Any]], output: str) -> None:
    if output == "json":
        click.echo(json.dumps(records, indent=2))
        return
    if not records:
        click.echo("Nothing stored.")
        return
    table = Table()
    for key in records[0]:
        # Ids must stay whole to be copied, so a narrow terminal folds them instead of cutting.
        table.add_column(key, overflow="fold")
    for record in records:
        table.add_row(*(_cell(value) for value in record.values()))
    console = table_console()
    if not console.is_terminal:
        # Piped output has no width to fit, so every column gets its natural width.
        console.width = 1000
    console.print(table)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return _on_off(value)
    return "" if value is None else str(value)
