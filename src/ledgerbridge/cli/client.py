"""`ledgerbridge client ...`: workspace clients, their initial connection and their settings."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ledgerbridge.cli.files import checked_file
from ledgerbridge.cli.output import emit, is_json, say
from ledgerbridge.cli.tables import print_table
from ledgerbridge.cli.wiring import open_workspace
from ledgerbridge.documents import read_document
from ledgerbridge.domain.clock import local_time

app = typer.Typer(
    help="Workspace clients: the initial connection to a ledger folder, and settings.",
    no_args_is_help=True,
)


class OnOff(StrEnum):
    on = "on"
    off = "off"


class AutoSendMode(StrEnum):
    manual = "manual"
    nightly = "nightly"


FolderArgument = Annotated[
    str, typer.Argument(metavar="FOLDER", help="The folder's code, in the ledger and here.")
]
ApiOption = Annotated[
    OnOff | None, typer.Option("--api", help="Whether the client may synchronize.")
]
AutoSendOption = Annotated[
    AutoSendMode | None,
    typer.Option("--auto-send", help="Automatic sending: manual, or nightly at its hour."),
]


def _setting(value: str | None, parse: Callable[[str], str], option: str) -> str | None:
    """An option's value read by the workspace's parser; what it refuses is bad usage."""
    if value is None:
        return None
    try:
        return parse(value)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint=option) from None


def _api(value: OnOff | None) -> bool | None:
    return None if value is None else value is OnOff.on


@app.command("connect")
def connect(
    folder: FolderArgument,
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference",
            callback=checked_file,
            metavar="FILE",
            help="Accounts and third parties to send to the ledger: a JSON or YAML file of"
            " `accounts` and `third_parties`, each written as in a folder setup.",
        ),
    ] = None,
    auto_send: AutoSendOption = None,
    api: ApiOption = None,
) -> None:
    """Tie a workspace client to a ledger folder (initial connection); again: update it."""
    from ledgerbridge.workspace.clients import parse_reference

    data = (
        read_document(
            reference, lambda raw: parse_reference(raw, folder=folder, source=str(reference))
        )
        if reference is not None
        else None
    )
    workspace = open_workspace()
    report = workspace.connect_client(
        folder,
        reference=data,
        auto_send=auto_send.value if auto_send is not None else None,
        api_enabled=_api(api),
    )
    workspace.refresh_mirror(folder)  # a setup the ledger published before: the mirror
    if is_json():
        emit({"client": report.as_dict()})
    for line in report.lines():
        say(line)


@app.command("set")
def set_settings(
    folder: FolderArgument,
    api: ApiOption = None,
    auto_send: AutoSendOption = None,
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="HH:MM", help="Local time of the nightly sending."),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            metavar="ZONE",
            help="The client's time zone (IANA name, default Europe/Paris): its nightly hour,"
            " its dates and the times shown follow it.",
        ),
    ] = None,
) -> None:
    """Change a client's settings; the options not given keep their value."""
    from ledgerbridge.workspace.clients import parse_send_time, parse_timezone

    settings = open_workspace().set_client(
        folder,
        api_enabled=_api(api),
        auto_send=auto_send.value if auto_send is not None else None,
        send_at=_setting(at, parse_send_time, "--at"),
        timezone=_setting(timezone, parse_timezone, "--timezone"),
    )
    if is_json():
        emit({"client": settings.as_dict()})
    say(settings.describe())


@app.command("show")
def show(folder: FolderArgument) -> None:
    """A client's settings, and the ledger setup it mirrors for the pre-flight."""
    workspace = open_workspace()
    settings = workspace.client(folder)
    mirrored = workspace.refresh_mirror(folder)
    if is_json():
        emit(
            {
                "client": {
                    **settings.as_dict(),
                    "mirror": mirrored.as_dict() if mirrored is not None else None,
                }
            }
        )
        return
    api = "on" if settings.api_enabled else "off"
    sending = (
        f"nightly at {settings.send_at}"
        if settings.auto_send == "nightly"
        else f"manual (nightly would send at {settings.send_at})"
    )
    mirror = (
        f"published on {local_time(mirrored.published_at, settings.timezone)}"
        if mirrored is not None
        else f"none yet (in the ledger: ledgerbridge ledger resync-fiscal-years {folder})"
    )
    sys.stdout.write(
        f"Client {settings.folder}\n"
        f"  API                {api}\n"
        f"  automatic sending  {sending}\n"
        f"  time zone          {settings.timezone}\n"
        f"  connected since    {local_time(settings.created_at, settings.timezone)}\n"
        f"  ledger setup       {mirror}\n"
    )


@app.command("list")
def list_clients() -> None:
    """Every workspace client and its settings."""
    found = open_workspace().clients()
    if is_json():
        emit({"clients": [settings.as_dict() for settings in found]})
        return
    if not found:
        say("No client yet: connect one with `ledgerbridge client connect FOLDER`.")
        return
    print_table(
        ["FOLDER", "API", "SENDING", "AT", "TIME ZONE"],
        [
            [
                settings.folder,
                "on" if settings.api_enabled else "off",
                settings.auto_send,
                settings.send_at,
                settings.timezone,
            ]
            for settings in found
        ],
    )
