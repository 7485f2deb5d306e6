"""The ledger's setup as the workspace mirrors it, and the pre-flight that checks entries against it.

The pre-flight is the ledger's own check (`check_entry`) run against the mirrored setup,
so the two can never disagree but through a setup changed since its publication. Its
verdicts are kept with each entry and made again only when the entry or the mirror changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import Connection

from ledgerbridge.domain.check import check_entry
from ledgerbridge.domain.entries import Entry, decode_entry, entry_json
from ledgerbridge.domain.findings import CheckResult
from ledgerbridge.domain.folder_index import FolderIndex
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.setup import FolderSetup, setup_from_json
from ledgerbridge.workspace.tables import entries, mirror, revisions, with_content

# The statuses the pre-flight speaks of: what will be sent, or may be once verified.
# The To Verify tab's statuses: a failed entry is predicted too, e.g. after a fix in the ledger.
PREDICTED_STATUSES = frozenset({Status.TO_VERIFY, Status.VERIFIED, Status.SYNC_FAILED})
# Part of every stamp: verdicts made by an older check are made again.
_VERDICT_FORMAT = "check-1"
_CHUNK = 1000


@dataclass(frozen=True, slots=True)
class Mirror:
    """A folder's setup as the ledger last published it to the workspace."""

    folder: str
    setup: FolderSetup
    published_at: datetime
    received_at: datetime
    stamp: str  # what the verdicts made against this setup are marked with

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "published_at": self.published_at.isoformat(),
            "received_at": self.received_at.isoformat(),
            "fiscal_years": [msgspec.to_builtins(year) for year in self.setup.fiscal_years],
        }


@dataclass(slots=True)
class Preflight:
    """The check against one mirrored setup, indexed once for a whole import or list."""

    mirror: Mirror
    index: FolderIndex = field(init=False)

    def __post_init__(self) -> None:
        self.index = FolderIndex.of(self.mirror.setup)

    @property
    def stamp(self) -> str:
        return self.mirror.stamp

    def check(self, entry: Entry) -> CheckResult:
        return check_entry(entry, self.index)

    def verdict(self, entry: Entry) -> str | None:
        """The predicted rejection as stored (JSON), or None when the ledger will accept it."""
        return prediction_json(self.check(entry))

    def stored_values(self, entry: Entry) -> dict[str, Any]:
        return {"predicted": self.verdict(entry), "predicted_against": self.stamp}


NO_PREDICTION: dict[str, Any] = {"predicted": None, "predicted_against": None}


def prediction_values(preflight: Preflight | None, entry: Entry) -> dict[str, Any]:
    """The pre-flight columns of an entry's new revision (none without a mirror)."""
    return preflight.stored_values(entry) if preflight is not None else dict(NO_PREDICTION)


def prediction_json(result: CheckResult) -> str | None:
    if result.accepted:
        return None
    return json.dumps(
        {
            "code": result.code,
            "message": result.message,
            "findings": [finding.as_dict() for finding in result.findings],
        },
        ensure_ascii=False,
    )


def _setup_text(setup: FolderSetup) -> str:
    return json.dumps(setup.to_document(), ensure_ascii=False, sort_keys=True)


def _stamp(setup_text: str) -> str:
    return hashlib.sha256(f"{_VERDICT_FORMAT}\n{setup_text}".encode()).hexdigest()


_MIRROR = sa.select(mirror).where(mirror.c.client == sa.bindparam("client"))  # built once


def load_mirror(connection: Connection, folder: str) -> Mirror | None:
    row = connection.execute(_MIRROR, {"client": folder}).first()
    if row is None:
        return None
    return Mirror(
        folder=folder,
        setup=setup_from_json(row.setup),
        published_at=row.published_at,
        received_at=row.received_at,
        stamp=_stamp(row.setup),
    )


def preflight_of(connection: Connection, folder: str) -> Preflight | None:
    found = load_mirror(connection, folder)
    return Preflight(found) if found is not None else None


def store_mirror(
    connection: Connection,
    folder: str,
    setup: FolderSetup,
    *,
    published_at: datetime,
    received_at: datetime,
) -> Mirror:
    """Keep the setup the ledger published for `folder`, and predict again against it."""
    text = _setup_text(setup)
    values = {"setup": text, "published_at": published_at, "received_at": received_at}
    updated = connection.execute(mirror.update().where(mirror.c.client == folder).values(**values))
    if updated.rowcount == 0:
        connection.execute(mirror.insert().values(client=folder, **values))
    kept = Mirror(folder, setup, published_at, received_at, _stamp(text))
    update_predictions(connection, folder, Preflight(kept))
    return kept


def stale_predictions(
    folder: str, preflight: Preflight, statuses: Collection[Status] = PREDICTED_STATUSES
) -> sa.Select[tuple[str, str, str]]:
    """The client's entries of `statuses` whose verdict was made against another setup than
    `preflight`'s (or never made): id, current content and fingerprint."""
    return (
        sa.select(entries.c.entry_id, revisions.c.content, entries.c.fingerprint)
        .select_from(with_content)
        .where(
            entries.c.client == folder,
            entries.c.status.in_([status.value for status in statuses]),
            sa.or_(
                entries.c.predicted_against.is_(None),
                entries.c.predicted_against != preflight.stamp,
            ),
        )
    )


def update_predictions(
    connection: Connection,
    folder: str,
    preflight: Preflight,
    statuses: Collection[Status] = PREDICTED_STATUSES,
) -> int:
    """Predict again the entries whose verdict was made against another setup; returns how many."""
    stale = connection.execute(stale_predictions(folder, preflight, statuses)).all()
    # Only where the content is still the one checked: an edit committed meanwhile keeps
    # the verdict it was given on its own content.
    update = (
        entries.update()
        .where(
            entries.c.client == folder,
            entries.c.entry_id == sa.bindparam("k_id"),
            entries.c.fingerprint == sa.bindparam("k_fingerprint"),
        )
        .values(predicted=sa.bindparam("k_predicted"), predicted_against=preflight.stamp)
    )
    for start in range(0, len(stale), _CHUNK):
        connection.execute(
            update,
            [
                {
                    "k_id": row.entry_id,
                    "k_fingerprint": row.fingerprint,
                    "k_predicted": preflight.verdict(entry_of(row.content)),
                }
                for row in stale[start : start + _CHUNK]
            ],
        )
    return len(stale)


def entry_of(content: str) -> Entry:
    """An entry as the workspace keeps it (validated when it came in)."""
    return decode_entry(content)


def content_of(entry: Entry) -> str:
    """The §4.2 entry document the workspace keeps and sends: absent values left out,
    amounts as strings with two decimals."""
    return entry_json(entry).decode()
