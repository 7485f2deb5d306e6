"""The workspace's tables (SQLAlchemy Core), as the migrations make them."""

from __future__ import annotations

import sqlalchemy as sa

from ledgerbridge.db import Moment

metadata = sa.MetaData()


clients = sa.Table(
    "ws_clients",
    metadata,
    sa.Column("folder", sa.String, primary_key=True),
    sa.Column("api_enabled", sa.Boolean, nullable=False),
    sa.Column("auto_send", sa.String, nullable=False),  # manual | nightly
    sa.Column("send_at", sa.String(5), nullable=False),  # HH:MM, local time
    sa.Column("timezone", sa.String, nullable=False),
    sa.Column("created_at", Moment, nullable=False),
    # Two syncs of one client never overlap: a sync holds this lease while it runs, in the
    # name of its process (`processes.holder_name`), which a dead sync's lease names too.
    sa.Column("sync_lease_until", Moment, nullable=True),
    sa.Column("sync_lease_holder", sa.String, nullable=True),  # migration 0008
    sa.Column("last_nightly_on", sa.Date, nullable=True),  # the local day of the last nightly run
)

entries = sa.Table(
    "ws_entries",
    metadata,
    sa.Column("client", sa.String, sa.ForeignKey("ws_clients.folder"), primary_key=True),
    sa.Column("entry_id", sa.String, primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    # The current revision's §4.2 document is its row of ws_revisions (`with_content`).
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("imported_at", Moment, nullable=False),
    sa.Column("updated_at", Moment, nullable=False),
    sa.Column("code", sa.String, nullable=True),  # the ledger's rejection, verbatim
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("findings", sa.Text, nullable=True),  # JSON list of §4.3 findings
    sa.Column("entry_number", sa.Integer, nullable=True),
    sa.Column("fiscal_year", sa.String, nullable=True),
    sa.Column("batch_id", sa.String, nullable=True),
    sa.Column("attempted_at", Moment, nullable=True),
    # The pre-flight's verdict on the current revision, kept so that a list of 100,000
    # entries does not check them all again: the rejection as JSON (code, message,
    # findings), null when the entry passes; `predicted_against` is the stamp of the
    # mirrored setup it was made against (null: never predicted), so a new mirror makes it stale.
    sa.Column("predicted", sa.Text, nullable=True),
    sa.Column("predicted_against", sa.String(64), nullable=True),
    # The entry's history, across its revisions, oldest first: one item per event of
    # `history_events`, each `[event id, revision, message or null],` (see
    # transitions.history_item). A status change appends its item in the statement that
    # changes the status, so keeping the history costs no row of its own.
    sa.Column("history", sa.Text, nullable=False, server_default=""),
    # No index on status (migration 0015): a client's entries of one status are found among
    # its rows, which the primary key keeps together, and a change of status moves no index.
)

revisions = sa.Table(
    "ws_revisions",
    metadata,
    sa.Column("client", sa.String, primary_key=True),
    sa.Column("entry_id", sa.String, primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("created_at", Moment, nullable=False),
)

# Each entry with its current revision's §4.2 document (`revisions.c.content`).
with_content = entries.join(
    revisions,
    sa.and_(
        revisions.c.client == entries.c.client,
        revisions.c.entry_id == entries.c.entry_id,
        revisions.c.revision == entries.c.revision,
    ),
)

# One row per status change of a command, shared by every entry it moved from one status to
# another: a verify of 1,000 entries is one event, not 1,000 rows. Each entry lists its own
# events in `entries.c.history` (migration 0011).
history_events = sa.Table(
    "ws_history_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client", sa.String, nullable=False),
    sa.Column("at", Moment, nullable=False),
    sa.Column("actor", sa.String, nullable=False),  # accountant | import | sync | ledger | nightly
    sa.Column("from_status", sa.String, nullable=True),  # null on import
    sa.Column("to_status", sa.String, nullable=False),
    # Null when each entry has a message of its own (in its history item).
    sa.Column("message", sa.Text, nullable=True),
)

rejections = sa.Table(
    "ws_rejections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client", sa.String, nullable=False),
    sa.Column("entry_id", sa.String, nullable=True),  # null for reference data
    sa.Column("revision", sa.Integer, nullable=True),
    sa.Column(
        "item", sa.String, nullable=True
    ),  # reference data: "account 401000", "third party FEDF"
    sa.Column("code", sa.String, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("at", Moment, nullable=False),
    sa.Column("expected", sa.Boolean, nullable=False),
    sa.Column("batch_id", sa.String, nullable=True),  # the batch answered; migration 0009
    # Reference data refused, then taken or found by a later connection (migration 0013).
    sa.Column("settled_at", Moment, nullable=True),
    sa.Index("ix_ws_rejections_client", "client", "at"),
)

outbox = sa.Table(
    "ws_outbox",
    metadata,
    sa.Column("batch_id", sa.String, primary_key=True),
    sa.Column("client", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),  # entries | reference
    sa.Column("created_at", Moment, nullable=False),
    sa.Column("actor", sa.String, nullable=False),
    # Null until the batch needs no more deposit: the relay took it, or its entries are settled.
    sa.Column("deposited_at", Moment, nullable=True),
    # A reference batch's items (JSON: kind and document each), to send it again if its
    # deposit was interrupted; an entries batch is read back from its entries.
    sa.Column("content", sa.Text, nullable=True),
)

mirror = sa.Table(
    "ws_mirror",
    metadata,
    sa.Column("client", sa.String, primary_key=True),
    sa.Column("setup", sa.Text, nullable=False),  # the §4.1 document the ledger published
    sa.Column("published_at", Moment, nullable=False),
    sa.Column("received_at", Moment, nullable=False),
)
