"""Ledger folders: applying a setup, refusing what would orphan posted entries, reading it back."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ledgerbridge.domain.malformed import MalformedDocument
from ledgerbridge.domain.plurals import counted
from ledgerbridge.domain.setup import (
    FiscalYear,
    FolderSetup,
    ThirdParty,
    consistency_problems,
    setup_from_json,
)
from ledgerbridge.ledger.errors import Orphan, OrphanedPostedLines, UnknownFolder
from ledgerbridge.ledger.tables import folders, posted_entries

# Settings that are not lists of coded items, compared as a whole.
_SETTINGS = ("name", "siren", "allow_entries_without_analytics", "import_cursor", "limits")


@dataclass(frozen=True, slots=True)
class Folder:
    id: int
    code: str
    setup: FolderSetup


@dataclass(frozen=True, slots=True)
class ItemChanges:
    """How many items of one kind (journals, accounts...) a setup adds, changes and removes."""

    added: int = 0
    changed: int = 0
    removed: int = 0

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "changed": self.changed, "removed": self.removed}


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """What applying a setup did to a folder."""

    folder: str
    created: bool
    items: Mapping[str, ItemChanges] = field(default_factory=dict)  # by kind, e.g. "journals"
    settings: tuple[str, ...] = ()  # other settings that changed, e.g. "limits"

    @property
    def changed(self) -> bool:
        return self.created or bool(self.settings) or any(self.items.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "created": self.created,
            "changed": self.changed,
            "items": {kind: changes.as_dict() for kind, changes in self.items.items()},
            "settings": list(self.settings),
        }

    def summary(self) -> str:
        if self.created:
            counts = ", ".join(
                counted(changes.added, *_ITEM_NOUNS[kind]) for kind, changes in self.items.items()
            )
            return f"folder {self.folder} created ({counts})"
        if not self.changed:
            return f"folder {self.folder} unchanged"
        parts = [
            f"{kind.replace('_', ' ')}: {changes.added} added, {changes.changed} changed,"
            f" {changes.removed} removed"
            for kind, changes in self.items.items()
            if changes
        ]
        if self.settings:
            parts.append("settings changed: " + ", ".join(self.settings))
        return f"folder {self.folder} updated ({'; '.join(parts)})"


def setup_to_text(setup: FolderSetup) -> str:
    return json.dumps(setup.to_document(), ensure_ascii=False, separators=(",", ":"))


def folder_codes(connection: Connection) -> list[str]:
    return list(connection.scalars(sa.select(folders.c.code).order_by(folders.c.code)))


# Built once: each opening and each batch posted looks its folder up.
_FOLDER_ID = sa.select(folders.c.id).where(folders.c.code == sa.bindparam("code"))
_FOLDER = sa.select(folders.c.id, folders.c.setup).where(folders.c.code == sa.bindparam("code"))
_FOLDER_LOCKED = _FOLDER.with_for_update()


def folder_exists(connection: Connection, code: str) -> bool:
    return connection.scalar(_FOLDER_ID, {"code": code}) is not None


def find_folder(connection: Connection, code: str, *, lock: bool = False) -> Folder:
    """The folder; with `lock`, nobody else posts to it or changes it until the transaction ends."""
    row = connection.execute(_FOLDER_LOCKED if lock else _FOLDER, {"code": code}).one_or_none()
    if row is None:
        raise UnknownFolder(code, folder_codes(connection))
    return Folder(id=row.id, code=code, setup=setup_from_json(row.setup))


def apply_setup(connection: Connection, setup: FolderSetup, now: datetime) -> ApplyReport:
    """Create or update the folder; refuse, changing nothing, what would orphan posted entries."""
    problems = consistency_problems(setup)
    if problems:
        raise MalformedDocument(problems, source=f"setup of folder {setup.folder}")
    query = sa.select(folders.c.id, folders.c.setup).where(folders.c.code == setup.folder)
    row = connection.execute(query.with_for_update()).one_or_none()
    if row is None:
        connection.execute(
            folders.insert().values(
                code=setup.folder, setup=setup_to_text(setup), created_at=now, updated_at=now
            )
        )
        nothing = FolderSetup(folder=setup.folder)
        return ApplyReport(folder=setup.folder, created=True, items=_item_changes(nothing, setup))
    current = setup_from_json(row.setup)
    orphans = find_orphans(connection, row.id, current, setup)
    if orphans:
        raise OrphanedPostedLines(setup.folder, orphans)
    report = ApplyReport(
        folder=setup.folder,
        created=False,
        items=_item_changes(current, setup),
        settings=_settings_changed(current, setup),
    )
    if report.changed:
        connection.execute(
            folders.update()
            .where(folders.c.id == row.id)
            .values(setup=setup_to_text(setup), updated_at=now)
        )
    return report


# The kinds of `_item_changes`, as a count of them reads: singular, plural.
_ITEM_NOUNS = {
    "fiscal_years": ("fiscal year", "fiscal years"),
    "journals": ("journal", "journals"),
    "accounts": ("account", "accounts"),
    "third_parties": ("third party", "third parties"),
    "analytic_axes": ("analytic axis", "analytic axes"),
}


def _keyed(items: Sequence[Any], key: str) -> dict[str, Any]:
    return {getattr(item, key): item for item in items}


def _count_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> ItemChanges:
    return ItemChanges(
        added=sum(1 for code in after if code not in before),
        changed=sum(1 for code, item in after.items() if code in before and before[code] != item),
        removed=sum(1 for code in before if code not in after),
    )


def _item_changes(before: FolderSetup, after: FolderSetup) -> dict[str, ItemChanges]:
    return {
        "fiscal_years": _count_changes(
            _keyed(before.fiscal_years, "code"), _keyed(after.fiscal_years, "code")
        ),
        "journals": _count_changes(_keyed(before.journals, "code"), _keyed(after.journals, "code")),
        "accounts": _count_changes(
            _keyed(before.accounts, "number"), _keyed(after.accounts, "number")
        ),
        "third_parties": _count_changes(
            _keyed(before.third_parties, "code"), _keyed(after.third_parties, "code")
        ),
        "analytic_axes": _count_changes(
            _keyed(before.analytics.axes, "code"), _keyed(after.analytics.axes, "code")
        ),
    }


def _settings_changed(before: FolderSetup, after: FolderSetup) -> tuple[str, ...]:
    def settings(setup: FolderSetup) -> dict[str, object]:
        return {
            "name": setup.name,
            "siren": setup.siren,
            "allow_entries_without_analytics": setup.analytics.allow_entries_without_analytics,
            "import_cursor": setup.import_cursor,
            "limits": setup.limits,
        }

    old, new = settings(before), settings(after)
    return tuple(name for name in _SETTINGS if old[name] != new[name])


def find_orphans(
    connection: Connection, folder_id: int, current: FolderSetup, proposed: FolderSetup
) -> list[Orphan]:
    """The setup items posted entries use that `proposed` removes or changes under them."""
    orphans: list[Orphan] = []
    posted = _posted_lines(connection, folder_id)

    def usage(column: sa.ColumnElement[Any], codes: Collection[str]) -> dict[str, tuple[int, int]]:
        if not codes:
            return {}
        query = (
            sa.select(column, sa.func.count(sa.distinct(posted.c.entry)), sa.func.count())
            .where(column.in_(sorted(codes)))
            .group_by(column)
        )
        return {code: (entries, lines) for code, entries, lines in connection.execute(query)}

    def removed(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
        return {code for code in before if code not in after}

    old_years = _keyed(current.fiscal_years, "code")
    new_years = _keyed(proposed.fiscal_years, "code")
    for code, (entries, lines) in sorted(
        usage(posted.c.fiscal_year, removed(old_years, new_years)).items()
    ):
        orphans.append(
            Orphan(
                "fiscal year",
                code,
                "removed",
                entries,
                lines,
                "keep it in the setup; set its status to closed so nothing more is posted in it",
            )
        )
    for code in sorted(old_years.keys() & new_years.keys()):
        orphan = _fiscal_year_dates_orphan(connection, posted, old_years[code], new_years[code])
        if orphan is not None:
            orphans.append(orphan)

    old_journals = _keyed(current.journals, "code")
    new_journals = _keyed(proposed.journals, "code")
    for code, (entries, lines) in sorted(
        usage(posted.c.journal, removed(old_journals, new_journals)).items()
    ):
        orphans.append(
            Orphan(
                "journal",
                code,
                "removed",
                entries,
                lines,
                "keep it in the setup; set its status to locked or read_only to stop new entries",
            )
        )

    old_accounts = _keyed(current.accounts, "number")
    new_accounts = _keyed(proposed.accounts, "number")
    for code, (entries, lines) in sorted(
        usage(posted.c.account, removed(old_accounts, new_accounts)).items()
    ):
        orphans.append(
            Orphan(
                "account",
                code,
                "removed",
                entries,
                lines,
                'keep it in the setup; mark it "locked": true to stop new entries on it',
            )
        )

    old_parties: dict[str, ThirdParty] = _keyed(current.third_parties, "code")
    new_parties: dict[str, ThirdParty] = _keyed(proposed.third_parties, "code")
    moved = {
        code
        for code, party in old_parties.items()
        if code in new_parties and new_parties[code].account != party.account
    }
    gone = removed(old_parties, new_parties)
    for code, (entries, lines) in sorted(usage(posted.c.auxiliary, gone | moved).items()):
        if code in gone:
            change, fix = "removed", "keep it in the setup"
        else:
            old_account, new_account = old_parties[code].account, new_parties[code].account
            change = f"moved from account {old_account} to {new_account}"
            fix = (
                f"keep it under account {old_account}, and create another third party"
                f" for account {new_account}"
            )
        orphans.append(Orphan("third party", code, change, entries, lines, fix))
    return orphans


def _fiscal_year_dates_orphan(
    connection: Connection, posted: sa.Subquery, before: FiscalYear, after: FiscalYear
) -> Orphan | None:
    if (before.start, before.end) == (after.start, after.end):
        return None
    query = sa.select(
        sa.func.count(sa.distinct(posted.c.entry)),
        sa.func.count(),
        sa.func.min(posted.c.date),
        sa.func.max(posted.c.date),
    ).where(
        posted.c.fiscal_year == before.code,
        sa.or_(posted.c.date < after.start, posted.c.date > after.end),
    )
    entries, lines, first, last = connection.execute(query).one()
    if not entries:
        return None
    return Orphan(
        "fiscal year",
        before.code,
        f"changed to run from {after.start} to {after.end}",
        entries,
        lines,
        f"posted entries outside those dates run from {first} to {last};"
        f" keep its dates ({before.start} to {before.end}) or dates that cover them",
    )


def _posted_lines(connection: Connection, folder_id: int) -> sa.Subquery:
    """The folder's posted lines, a row each: `entry` (the entry's row id), the entry's
    `fiscal_year`, `journal` and `date`, and the line's `account` and `auxiliary`.

    They are read from each entry's `lines` column by the database's JSON functions, a row
    per element of the array: SQLite's json_each, PostgreSQL's jsonb_array_elements.
    """
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB  # loaded only where it is used

        elements = sa.func.jsonb_array_elements(sa.cast(posted_entries.c.lines, JSONB))
        line = elements.table_valued("value", name="line")

        def field(name: str) -> sa.ColumnElement[Any]:
            return line.c.value.op("->>")(name)
    else:
        line = sa.func.json_each(posted_entries.c.lines).table_valued("value", name="line")

        def field(name: str) -> sa.ColumnElement[Any]:
            return sa.func.json_extract(line.c.value, f"$.{name}")

    return (
        sa.select(
            posted_entries.c.id.label("entry"),
            posted_entries.c.fiscal_year,
            posted_entries.c.journal,
            posted_entries.c.date,
            field("account").label("account"),
            field("auxiliary").label("auxiliary"),
        )
        .join_from(posted_entries, line, sa.true())
        .where(posted_entries.c.folder_id == folder_id)
        .subquery("posted_lines")
    )
