"""Diagnostics: the seed's procedures as checks (`doctor`), and the Rejections tab."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ledgerbridge.connectors.base import LedgerConnector, LinkState
from ledgerbridge.db import Database
from ledgerbridge.domain.clock import Clock, local_time
from ledgerbridge.domain.fiscal_period import fiscal_period_problems
from ledgerbridge.domain.lifecycle import Status
from ledgerbridge.domain.plurals import counted
from ledgerbridge.domain.setup import parse_setup
from ledgerbridge.workspace.clients import find_client, unknown_client
from ledgerbridge.workspace.mirror import entry_of, preflight_of, stale_predictions
from ledgerbridge.workspace.tables import (
    clients,
    entries,
    mirror,
    outbox,
    rejections,
)

MIRROR_STALE_AFTER = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    message: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "message": self.message, "fix": self.fix}


@dataclass(frozen=True, slots=True)
class EntryFailures:
    """The client's entries the ledger rejected, those the pre-flight says it will reject as
    written, and the reference data of its last initial connection the ledger refused: not
    one of doctor's checks (the link to the ledger can be in order while they wait for the
    accountant), told beside them."""

    folder: str
    failed: int  # sync_failed
    predicted: int  # to_verify or verified, predicted rejected against the mirrored setup
    # Items of the last connection's reference data rejected other than as already there
    # (a third party whose account the ledger has not, say): the client's setup lacks them.
    reference_refused: int = 0

    def notes(self) -> list[str]:
        """What the accountant reads after the checks, each with where to see the fixes."""
        notes = []
        if self.failed:
            notes.append(
                f"{counted(self.failed, 'entry', 'entries')} failed synchronization:"
                f" ledgerbridge entries list {self.folder} --status sync_failed shows each with"
                " its fix"
            )
        if self.predicted:
            will = counted(self.predicted, "entry to send will", "entries to send will")
            notes.append(
                f"{will} be rejected by the ledger as written (pre-flight):"
                f" ledgerbridge entries list {self.folder} --status to_verify,verified shows"
                " each with its fix"
            )
        if self.reference_refused:
            items = counted(self.reference_refused, "item", "items")
            notes.append(
                f"{items} of the initial connection's reference data refused by the ledger:"
                f" ledgerbridge rejections {self.folder} shows each with the ledger's message;"
                " correct the reference file and connect the client again (ledgerbridge client"
                f" connect {self.folder} --reference FILE), or add them in the ledger"
            )
        return notes


def _lapse(link: LinkState, now: datetime, zone: str) -> str | None:
    """Why the credential lets nothing through; an expiry told in the client's local time,
    as the rest of doctor (the connector tells its own in UTC)."""
    expires_at = link.credential_expires_at
    if expires_at is not None and expires_at <= now:
        return (
            f"its certificate expired on {local_time(expires_at, zone)}: the reference"
            " administrator must identify again"
        )
    return link.credential_reason


class Diagnostics:
    def __init__(self, database: Database, connector: LedgerConnector, clock: Clock) -> None:
        self._database = database
        self._connector = connector
        self._clock = clock

    def doctor(self, folder: str) -> list[Check]:
        """api, connector, credential, fiscal_period, waiting_batches, mirror: each with its fix."""
        now = self._clock()
        with self._database.transaction(write=False) as connection:
            client = connection.execute(
                sa.select(clients).where(clients.c.folder == folder)
            ).first()
            if client is None:
                raise unknown_client(connection, folder)
            mirrored = connection.execute(
                sa.select(mirror).where(mirror.c.client == folder)
            ).first()
            stuck = connection.execute(
                sa.select(sa.func.count(), sa.func.min(entries.c.attempted_at)).where(
                    entries.c.client == folder, entries.c.status == Status.SYNCHRONIZING.value
                )
            ).one()
            undeposited = connection.execute(
                sa.select(sa.func.count(), sa.func.min(outbox.c.created_at)).where(
                    outbox.c.client == folder,
                    outbox.c.kind == "entries",
                    outbox.c.deposited_at.is_(None),
                )
            ).one()
            # The initial connection's reference data, whose send was interrupted: the next
            # sync sends it again from the outbox, or, kept by an older version without its
            # items, only a new connection with the file does.
            unsent_reference = connection.execute(
                sa.select(sa.func.count()).where(
                    outbox.c.client == folder,
                    outbox.c.kind == "reference",
                    outbox.c.deposited_at.is_(None),
                )
            ).scalar_one()
            lost_reference = connection.execute(
                sa.select(sa.func.count()).where(
                    outbox.c.client == folder,
                    outbox.c.kind == "reference",
                    outbox.c.deposited_at.is_(None),
                    outbox.c.content.is_(None),
                )
            ).scalar_one()
        zone = client.timezone
        link = self._connector.link_state(folder)
        checks = [
            Check("api", True, "The API is enabled: Synchronize and the nightly run send entries.")
            if client.api_enabled
            else Check(
                "api",
                False,
                "The API is disabled: nothing is sent to the ledger.",
                f"ledgerbridge client set {folder} --api on",
            ),
            Check(
                "connector",
                True,
                "The marketplace connector is active and its interactions accepted.",
            )
            if link.connector_reason is None
            else Check(
                "connector",
                False,
                f"The marketplace connector lets nothing through: {link.connector_reason}.",
                f"In the ledger: ledgerbridge ledger marketplace {folder} --activate --accept,"
                f" then ledgerbridge ledger open {folder}",
            ),
        ]
        if link.credential_reason is None and link.credential_expires_at is not None:
            checks.append(
                Check(
                    "credential",
                    True,
                    "The reference administrator's credential is valid until"
                    f" {local_time(link.credential_expires_at, zone)}.",
                )
            )
        else:
            checks.append(
                Check(
                    "credential",
                    False,
                    f"The reference administrator's credential is not valid: {_lapse(link, now, zone)}.",
                    "The reference administrator authenticates"
                    f"{'' if link.credential_expires_at is None else ' again'}:"
                    f" ledgerbridge ledger admin-auth, then ledgerbridge ledger open {folder}",
                )
            )
        checks.append(self._fiscal_period(folder, mirrored, zone, now))
        checks.append(
            self._waiting(
                folder, link, stuck, undeposited, (unsent_reference, lost_reference), zone
            )
        )
        checks.append(self._mirror(folder, mirrored, now, zone))
        return checks

    def _fiscal_period(self, folder: str, mirrored: Any, timezone: str, now: datetime) -> Check:
        if mirrored is None:
            return Check(
                "fiscal_period",
                False,
                "The folder's fiscal years are unknown: the ledger never published them.",
                f"In the ledger: ledgerbridge ledger resync-fiscal-years {folder}",
            )
        setup = parse_setup(json.loads(mirrored.setup))
        today = now.astimezone(ZoneInfo(timezone)).date()
        problems = fiscal_period_problems(setup.fiscal_years, today)
        if not problems:
            return Check(
                "fiscal_period", True, f"The open fiscal years are in order for today ({today})."
            )
        return Check(
            "fiscal_period",
            False,
            " ".join(problem.message for problem in problems),
            " ".join(dict.fromkeys(problem.fix for problem in problems))
            + f" (ledgerbridge ledger resync-fiscal-years {folder})",
        )

    def _waiting(
        self,
        folder: str,
        link: LinkState,
        stuck: Any,
        undeposited: Any,
        reference: tuple[int, int],
        zone: str,
    ) -> Check:
        count, since = stuck
        unconfirmed, unconfirmed_since = undeposited
        batches, oldest = link.waiting_batches, link.oldest_waiting_at
        unsent_reference, lost_reference = reference
        if not batches and not count and not unconfirmed and not unsent_reference:
            return Check(
                "waiting_batches",
                True,
                "No batch waits in the relay; no entry is stuck synchronizing.",
            )
        parts = []
        if batches:
            parts.append(
                f"{counted(batches, 'batch waits', 'batches wait')} in the relay"
                + (f" since {local_time(oldest, zone)}" if oldest else "")
            )
        if count:
            parts.append(
                f"{counted(count, 'entry is', 'entries are')} synchronizing"
                + (f" since {local_time(since, zone)}" if since else "")
            )
        if unconfirmed:
            when = local_time(unconfirmed_since, zone)
            parts.append(
                counted(
                    unconfirmed,
                    f"batch sent since {when} was not",
                    f"batches sent since {when} were not",
                )
                + " confirmed by the relay (the send was interrupted)"
            )
        if unsent_reference:
            parts.append(
                "the initial connection's accounts and third parties never reached the relay"
                " (the send was interrupted)"
            )
        message = "; ".join(parts) + "."
        if link.wait_reason:
            message += f" Last opening: {link.wait_reason}"
        fixes = []
        if unconfirmed or unsent_reference > lost_reference:
            # The relay may never have received them: only a new send puts them there
            # (under the same batch id, so a batch it has already is not taken twice).
            fixes.append(f"Synchronize again to send them: ledgerbridge sync {folder}.")
        if lost_reference:
            fixes.append(
                f"Connect again with the reference data: ledgerbridge client connect {folder}"
                " --reference FILE."
            )
        if batches or count > 0:
            # Named, not "them": the waiting batches, else the entries synchronizing.
            number, one, many = (
                (batches, "the waiting batch", "the waiting batches")
                if batches
                else (count, "the synchronizing entry", "the synchronizing entries")
            )
            waiting, stays = (one, "it stays") if number == 1 else (many, "they stay")
            fixes.append(
                f"Open the folder's accounting in the ledger to inject {waiting}:"
                f" ledgerbridge ledger open {folder}"
                f" (if {stays}, check the connector and the administrator's credential above)."
            )
        return Check("waiting_batches", False, message, " ".join(fixes))

    def _mirror(self, folder: str, mirrored: Any, now: datetime, zone: str) -> Check:
        fix = f"In the ledger: ledgerbridge ledger resync-fiscal-years {folder}"
        if mirrored is None:
            return Check(
                "mirror", False, "No mirror of the ledger's setup: pre-flight cannot run.", fix
            )
        published = mirrored.published_at
        if published.tzinfo is None:
            published = published.replace(tzinfo=now.tzinfo)
        age = now - published
        when = local_time(published, zone)
        message = (
            f"The ledger's setup was published on {when} ({counted(age.days, 'day', 'days')} ago)."
        )
        if age > MIRROR_STALE_AFTER:
            return Check("mirror", False, message + " It may no longer match the ledger.", fix)
        return Check("mirror", True, message)

    def entry_failures(self, folder: str) -> EntryFailures:
        """How many of the client's entries failed synchronization, how many waiting to be
        sent the pre-flight predicts rejected (a verdict made against an older setup is made
        again, as `entries list` does), and how many items of its last initial connection's
        reference data the ledger refused other than as already there."""
        pending = (Status.TO_VERIFY, Status.VERIFIED)
        with self._database.transaction(write=False) as connection:
            if find_client(connection, folder) is None:
                raise unknown_client(connection, folder)
            failed = connection.execute(
                sa.select(sa.func.count()).where(
                    entries.c.client == folder, entries.c.status == Status.SYNC_FAILED.value
                )
            ).scalar_one()
            preflight = preflight_of(connection, folder)
            predicted = 0
            if preflight is not None:
                predicted = connection.execute(
                    sa.select(sa.func.count()).where(
                        entries.c.client == folder,
                        entries.c.status.in_([status.value for status in pending]),
                        entries.c.predicted_against == preflight.stamp,
                        entries.c.predicted.is_not(None),
                    )
                ).scalar_one()
                stale = connection.execute(stale_predictions(folder, preflight, pending))
                predicted += sum(
                    preflight.verdict(entry_of(row.content)) is not None for row in stale
                )
            last_reference = (
                sa.select(outbox.c.batch_id)
                .where(outbox.c.client == folder, outbox.c.kind == "reference")
                .order_by(outbox.c.created_at.desc())
                .limit(1)
                .scalar_subquery()
            )
            refused = connection.execute(
                sa.select(sa.func.count()).where(
                    rejections.c.client == folder,
                    rejections.c.item.is_not(None),
                    rejections.c.expected.is_(False),
                    rejections.c.batch_id == last_reference,
                )
            ).scalar_one()
        return EntryFailures(folder, int(failed), int(predicted), int(refused))

    def rejections(self, folder: str) -> list[dict[str, Any]]:
        """Every rejection received for the client, newest first, settled or not."""
        with self._database.transaction(write=False) as connection:
            if (
                connection.execute(
                    sa.select(clients.c.folder).where(clients.c.folder == folder)
                ).first()
                is None
            ):
                raise unknown_client(connection, folder)
            rows = connection.execute(
                sa.select(rejections, entries.c.status)
                .select_from(
                    rejections.outerjoin(
                        entries,
                        sa.and_(
                            entries.c.client == rejections.c.client,
                            entries.c.entry_id == rejections.c.entry_id,
                        ),
                    )
                )
                .where(rejections.c.client == folder)
                .order_by(rejections.c.at.desc(), rejections.c.id.desc())
            ).all()
        settled_statuses = {Status.SYNCHRONIZED.value, Status.EXCLUDED.value}
        return [
            {
                "id": row.entry_id if row.entry_id is not None else row.item,
                "revision": row.revision,
                "code": row.code,
                "message": row.message,
                "at": row.at.isoformat(),
                "settled": bool(
                    row.expected or row.status in settled_statuses or row.settled_at is not None
                ),
                "expected": bool(row.expected),
            }
            for row in rows
        ]
