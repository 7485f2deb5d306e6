"""Workspace clients: one per ledger folder, with its API and automatic-sending settings."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import Connection

from ledgerbridge.domain.clock import DEFAULT_TIMEZONE
from ledgerbridge.domain.malformed import MalformedDocument, Problem
from ledgerbridge.domain.setup import ReferenceData, read_value
from ledgerbridge.relay.values import ReferenceItem
from ledgerbridge.workspace.errors import UnknownClient
from ledgerbridge.workspace.tables import clients, outbox

AutoSend = Literal["manual", "nightly"]
AUTO_SEND_MODES: tuple[AutoSend, ...] = ("manual", "nightly")
DEFAULT_AUTO_SEND: AutoSend = "manual"
DEFAULT_SEND_AT = "02:00"
_SEND_AT = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def parse_send_time(text: str) -> str:
    """A local time of day as `HH:MM` (00:00 to 23:59); ValueError saying what is expected."""
    value = text.strip()
    if len(value) == 4 and value[1] == ":":
        value = f"0{value}"  # 2:00 is 02:00
    if not _SEND_AT.fullmatch(value):
        raise ValueError(f"expected a time of day as HH:MM (00:00 to 23:59), got {text!r}")
    return value


def parse_timezone(text: str) -> str:
    """An IANA time zone name (`Europe/Paris`); ValueError saying what is expected."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = text.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {text!r}: give an IANA name such as Europe/Paris,"
            " America/Martinique or Indian/Reunion"
        ) from None
    return value


@dataclass(frozen=True, slots=True)
class ClientSettings:
    folder: str
    api_enabled: bool
    auto_send: AutoSend
    send_at: str  # HH:MM, local time
    timezone: str
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "api_enabled": self.api_enabled,
            "auto_send": self.auto_send,
            "send_at": self.send_at,
            "timezone": self.timezone,
            "created_at": self.created_at.isoformat(),
        }

    def describe(self) -> str:
        sending = (
            f"nightly at {self.send_at} ({self.timezone})"
            if self.auto_send == "nightly"
            else f"manual (nightly would send at {self.send_at}, {self.timezone})"
        )
        return f"Client {self.folder}: API {'on' if self.api_enabled else 'off'}, automatic sending {sending}."


def parse_reference(
    raw: object, *, folder: str, source: str = "reference document"
) -> ReferenceData:
    """A `--reference` document (§4.1 shapes); MalformedDocument listing every problem."""
    try:
        reference = read_value(ReferenceData, raw)
    except MalformedDocument as malformed:
        raise MalformedDocument(malformed.problems, source=source) from None
    problems: list[Problem] = []
    if reference.folder is not None and reference.folder != folder:
        problems.append(
            Problem(
                "folder",
                f"the document is for folder {reference.folder!r}, not {folder!r} as named on"
                " the command line",
            )
        )
    problems += _duplicates(
        [account.number for account in reference.accounts], "accounts", "number"
    )
    problems += _duplicates(
        [party.code for party in reference.third_parties], "third_parties", "code"
    )
    if problems:
        raise MalformedDocument(problems, source=source)
    return reference


def _duplicates(values: Sequence[str], where: str, key: str) -> list[Problem]:
    first: dict[str, int] = {}
    problems = []
    for index, value in enumerate(values):
        seen = first.setdefault(value, index)
        if seen != index:
            problems.append(
                Problem(
                    f"{where}[{index}].{key}", f"duplicate {key} {value!r} (also {where}[{seen}])"
                )
            )
    return problems


def _settings(row: sa.Row[Any]) -> ClientSettings:
    return ClientSettings(
        folder=row.folder,
        api_enabled=bool(row.api_enabled),
        auto_send=row.auto_send,
        send_at=row.send_at,
        timezone=row.timezone,
        created_at=row.created_at,
    )


# Built once: every command on a client reads it first.
_CLIENT = sa.select(clients).where(clients.c.folder == sa.bindparam("folder"))


def find_client(connection: Connection, folder: str) -> ClientSettings | None:
    row = connection.execute(_CLIENT, {"folder": folder}).first()
    return _settings(row) if row is not None else None


def require_client(connection: Connection, folder: str) -> ClientSettings:
    """The client tied to `folder`, or UnknownClient."""
    found = find_client(connection, folder)
    if found is None:
        raise unknown_client(connection, folder)
    return found


def unknown_client(connection: Connection, folder: str) -> UnknownClient:
    """The refusal of a folder no client is tied to, naming the clients there are."""
    codes = connection.execute(sa.select(clients.c.folder).order_by(clients.c.folder))
    return UnknownClient(folder, list(codes.scalars()))


def all_clients(connection: Connection) -> list[ClientSettings]:
    return [
        _settings(row) for row in connection.execute(sa.select(clients).order_by(clients.c.folder))
    ]


def connect_client(
    connection: Connection,
    folder: str,
    *,
    api_enabled: bool | None,
    auto_send: AutoSend | None,
    at: datetime,
) -> tuple[ClientSettings, bool]:
    """Create the client (manual, API on, 02:00 Europe/Paris unless told otherwise), or
    update the settings given of an existing one; returns it and whether it is new."""
    if find_client(connection, folder) is not None:
        return update_client(
            connection, folder, api_enabled=api_enabled, auto_send=auto_send
        ), False
    connection.execute(
        clients.insert().values(
            folder=folder,
            api_enabled=True if api_enabled is None else api_enabled,
            auto_send=auto_send or DEFAULT_AUTO_SEND,
            send_at=DEFAULT_SEND_AT,
            timezone=DEFAULT_TIMEZONE,
            created_at=at,
        )
    )
    return require_client(connection, folder), True


def update_client(
    connection: Connection,
    folder: str,
    *,
    api_enabled: bool | None = None,
    auto_send: AutoSend | None = None,
    send_at: str | None = None,
    timezone: str | None = None,
) -> ClientSettings:
    """Change the settings given; the others keep their value."""
    require_client(connection, folder)
    changes: dict[str, Any] = {}
    if api_enabled is not None:
        changes["api_enabled"] = api_enabled
    if auto_send is not None:
        if auto_send not in AUTO_SEND_MODES:
            raise ValueError(f"automatic sending is manual or nightly, got {auto_send!r}")
        changes["auto_send"] = auto_send
    if send_at is not None:
        changes["send_at"] = parse_send_time(send_at)
    if timezone is not None:
        changes["timezone"] = parse_timezone(timezone)
    if changes:
        connection.execute(clients.update().where(clients.c.folder == folder).values(**changes))
    return require_client(connection, folder)


def record_outgoing_batch(
    connection: Connection,
    folder: str,
    batch_id: str,
    *,
    kind: str,
    actor: str,
    at: datetime,
    content: str | None = None,
) -> None:
    """Note a batch in the outbox before it is deposited, so an unconfirmed deposit shows."""
    connection.execute(
        outbox.insert().values(
            batch_id=batch_id, client=folder, kind=kind, created_at=at, actor=actor, content=content
        )
    )


def reference_content(items: Sequence[ReferenceItem]) -> str:
    """A reference batch's items as the outbox keeps them (JSON)."""
    return json.dumps(
        [{"kind": item.kind, "document": dict(item.document)} for item in items],
        ensure_ascii=False,
    )


def reference_from_content(content: str) -> list[ReferenceItem]:
    """The items of a reference batch kept in the outbox."""
    return [ReferenceItem(item["kind"], item["document"]) for item in json.loads(content)]


def confirm_deposit(connection: Connection, batch_id: str, at: datetime) -> None:
    connection.execute(outbox.update().where(outbox.c.batch_id == batch_id).values(deposited_at=at))
