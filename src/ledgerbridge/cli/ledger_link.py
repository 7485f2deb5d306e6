"""`ledgerbridge ledger open / marketplace / admin-auth / resync-fiscal-years`: the ledger's link."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from ledgerbridge.cli.ledger import FolderArgument, app
from ledgerbridge.cli.output import count_progress, emit, is_json, say
from ledgerbridge.cli.platform_access import open_platform
from ledgerbridge.cli.wiring import deliver_publication, folder_timezone
from ledgerbridge.domain.clock import local_time
from ledgerbridge.domain.plurals import counted
from ledgerbridge.processes import may_fork

if TYPE_CHECKING:
    from ledgerbridge.ledger.service import Ledger
    from ledgerbridge.relay.service import Relay
    from ledgerbridge.relay.values import ConnectorState, Credential


def open_ledger_and_relay() -> tuple[Ledger, Relay]:
    """The ledger and the relay, on the one database of the home (or of the URL)."""
    platform = open_platform()
    return platform.ledger, platform.relay


def _require_folder(ledger: Ledger, folder: str) -> None:
    from ledgerbridge.relay.errors import FolderNotInLedger

    if not ledger.has_folder(folder):
        raise FolderNotInLedger(folder, ledger.folders())


@app.command("open")
def open_folder(folder: FolderArgument) -> None:
    """Open the folder's accounting: inject the batches waiting in the relay."""
    platform = open_platform()
    with (
        _certificate_told_in(folder_timezone(folder, platform)),
        count_progress(
            f"Injecting {folder}", then=f"Injecting {folder}: posting the last entries, answering"
        ) as progress,
    ):
        report, _ = platform.open_accounting(folder, progress=progress, forked=may_fork())
    if is_json():
        emit({"opening": report.as_dict()})
    for line in report.lines():
        say(line)


def _connector_text(state: ConnectorState, timezone: str) -> str:
    """The connector and the administrator's credential, times in the folder's client's zone."""
    if state.active and state.consent:
        connector = "active, interactions accepted"
    elif state.active:
        connector = "active, interactions not accepted"
    elif state.changed_at is None:
        connector = "never activated"
    else:
        connector = f"deactivated (since {local_time(state.changed_at, timezone)})"
    indicator = _indicator(state, timezone, connected="connected (green)")
    waiting = state.waiting_batches
    return (
        f"Folder {state.folder}\n"
        f"  marketplace connector    {connector}\n"
        f"  reference administrator  {_administrator_text(state.credential, timezone)}\n"
        f"  indicator                {indicator}\n"
        f"  waiting batches          {waiting}\n"
    )


def _indicator(state: ConnectorState, timezone: str, *, connected: str) -> str:
    return connected if state.connected else f"disconnected: {state.reason_in(timezone)}"


def _administrator_text(credential: Credential | None, timezone: str) -> str:
    if credential is None:
        return "never authenticated"
    when = local_time(credential.expires_at, timezone)
    if credential.valid:
        return f"authenticated, valid until {when}"
    return f"certificate expired on {when}: the reference administrator must identify again"


@app.command("marketplace")
def marketplace(
    folder: FolderArgument,
    activate: Annotated[
        bool, typer.Option("--activate", help="Activate the folder's connector.")
    ] = False,
    accept: Annotated[
        bool,
        typer.Option("--accept", help="Accept the interactions described (needed to activate)."),
    ] = False,
    deactivate: Annotated[
        bool,
        typer.Option("--deactivate", help="Deactivate it; waiting batches are kept."),
    ] = False,
) -> None:
    """The folder's marketplace connector; with no option, its state and the administrator's."""
    if activate and deactivate:
        raise typer.BadParameter("give --activate or --deactivate, not both")
    if accept and not activate:
        raise typer.BadParameter("--accept goes with --activate")
    platform = open_platform()
    ledger, relay = platform.ledger, platform.relay
    _require_folder(ledger, folder)
    timezone = folder_timezone(folder, platform)
    if activate:
        state = relay.activate_connector(folder, accept=accept)
        say(f"Marketplace connector of folder {folder} activated, its interactions accepted.")
    elif deactivate:
        state = relay.deactivate_connector(folder)
        say(
            f"Marketplace connector of folder {folder} deactivated;"
            f" {counted(state.waiting_batches, 'waiting batch is', 'waiting batches are')} kept"
            " until it is activated again."
        )
    else:
        state = relay.connector_state(folder)
    if is_json():
        emit({"connector": state.as_dict()})
    elif not (activate or deactivate):
        sys.stdout.write(_connector_text(state, timezone))
    else:
        say(f"Indicator: {_indicator(state, timezone, connected='connected')}.")


@contextmanager
def _certificate_told_in(timezone: str) -> Iterator[None]:
    """A refusal for the certificate tells its time in the folder's client's zone."""
    from ledgerbridge.relay.errors import CertificateExpired  # not loaded for `ledger check`

    try:
        yield
    except CertificateExpired as refused:
        raise refused.told_in(timezone) from None


# The days an expiry may be: a credential's instants stay within what dates can hold.
_EARLIEST_EXPIRY, _LATEST_EXPIRY = date(1900, 1, 1), date(9999, 12, 30)


def _expiry(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date as YYYY-MM-DD, got {value!r}", param_hint="--expires"
        ) from None
    if not _EARLIEST_EXPIRY <= day <= _LATEST_EXPIRY:
        raise typer.BadParameter(
            f"expected a date from {_EARLIEST_EXPIRY} to {_LATEST_EXPIRY}, got {value!r}",
            param_hint="--expires",
        )
    return day


@app.command("admin-auth")
def admin_auth(
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            metavar="DATE",
            help="Last day of validity (YYYY-MM-DD); default: one year from now.",
        ),
    ] = None,
) -> None:
    """Authenticate the reference administrator (renews the GE Connector certificate)."""
    day = _expiry(expires)
    _, relay = open_ledger_and_relay()
    credential = relay.authenticate_administrator(day)
    if is_json():
        emit({"credential": credential.as_dict()})
    # The credential belongs to no folder: its times are told in the product's default zone,
    # the one in which the relay ends the last day of validity.
    when = local_time(credential.expires_at, folder_timezone(None))
    if day is None:
        say(f"Reference administrator authenticated; the certificate is valid until {when}.")
    elif credential.valid:
        say(
            "Reference administrator authenticated; the certificate is valid through"
            f" {day.isoformat()} (until {when})."
        )
    else:
        say(
            "Reference administrator authenticated with a certificate valid through"
            f" {day.isoformat()}, expired since {when}: openings will refuse to inject until"
            " the administrator identifies again."
        )


@app.command("resync-fiscal-years")
def resync_fiscal_years(folder: FolderArgument) -> None:
    """Publish the folder's fiscal years (and the rest of its setup) to the workspace."""
    platform = open_platform()
    ledger, relay = platform.ledger, platform.relay
    setup = ledger.folder_setup(folder)
    with _certificate_told_in(folder_timezone(folder, platform)):
        publication = relay.publish_setup(folder, setup)
    deliver_publication(folder)
    if is_json():
        emit({"publication": publication.as_dict()})
    years = ", ".join(f"{year.code} {year.status}" for year in setup.fiscal_years) or "none"
    when = local_time(publication.published_at, folder_timezone(folder, platform))
    say(f"Setup of folder {folder} published to the workspace at {when} (fiscal years: {years}).")
