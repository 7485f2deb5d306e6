"""The relay's tables (SQLAlchemy Core), as migration 0002_relay creates them.

Batches and their items are rows, so a batch survives a restart until it is injected;
results stay until the workspace has taken them.
"""

from __future__ import annotations

import sqlalchemy as sa

from ledgerbridge.db import Moment

metadata = sa.MetaData()

# SQLite numbers rows itself only for a column declared exactly INTEGER PRIMARY KEY.
ResultKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

WAITING = "waiting"
INJECTED = "injected"
WRITE_CHUNK = 5000  # rows per executemany (or COPY) into these tables


batches = sa.Table(
    "relay_batches",
    metadata,
    # Deposit order, which injection follows (deposit times may be equal).
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # Chosen by the sender, so a resend of the same batch is a no-op.
    sa.Column("batch_id", sa.String, nullable=False, unique=True),
    sa.Column("folder", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),  # entries | reference
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("deposited_at", Moment, nullable=False),
    sa.Column("state", sa.String, nullable=False),  # waiting | injected
    sa.Column("injected_at", Moment, nullable=True),
    sa.Column("last_attempt_at", Moment, nullable=True),
    sa.Column("last_wait_reason", sa.Text, nullable=True),
    # The opening injecting the batch (`host:pid:token`) and until when its claim holds;
    # another opening leaves the batch to it meanwhile, unless that process is gone.
    sa.Column("claimed_by", sa.String, nullable=True),
    sa.Column("claimed_until", Moment, nullable=True),
    sa.CheckConstraint("kind IN ('entries', 'reference')", name="ck_relay_batches_kind"),
    sa.CheckConstraint("state IN ('waiting', 'injected')", name="ck_relay_batches_state"),
    sa.Index("ix_relay_batches_folder_state", "folder", "state", "id"),
)

batch_items = sa.Table(
    "relay_batch_items",
    metadata,
    sa.Column("batch", sa.Integer, sa.ForeignKey("relay_batches.id"), primary_key=True),
    # 0, 1, 2...: injection reads a batch by ranges of positions.
    sa.Column("position", sa.Integer, primary_key=True),
    # An entry's idempotency key, or `account:401000` / `third_party:FEDF` for reference data.
    sa.Column("key", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),  # entry | account | third_party
    sa.Column("content", sa.Text, nullable=False),  # the §4.2 entry or §4.1 item, as JSON
)

results = sa.Table(
    "relay_results",
    metadata,
    sa.Column("id", ResultKey, primary_key=True, autoincrement=True),
    sa.Column("batch", sa.Integer, sa.ForeignKey("relay_batches.id"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("folder", sa.String, nullable=False),
    sa.Column("key", sa.String, nullable=False),
    sa.Column("item", sa.String, nullable=True),  # reference data: `third party FEDF`
    sa.Column("result", sa.Text, nullable=False),  # the §4.3 result, as JSON
    sa.Column("expected", sa.Boolean, nullable=False),
    sa.Column("created_at", Moment, nullable=False),
    sa.Column("delivered_at", Moment, nullable=True),
    # One answer per item: a batch is marked injected once, with its results.
    sa.UniqueConstraint("batch", "position", name="uq_relay_results_item"),
    sa.Index(
        "ix_relay_results_undelivered",
        "folder",
        "id",
        sqlite_where=sa.text("delivered_at IS NULL"),
        postgresql_where=sa.text("delivered_at IS NULL"),
    ),
)

connectors = sa.Table(
    "relay_connectors",
    metadata,
    sa.Column("folder", sa.String, primary_key=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("consent", sa.Boolean, nullable=False),
    sa.Column("changed_at", Moment, nullable=False),
)

# The reference administrator of the ledger installation: one row.
CREDENTIAL_ROW = 1
credential = sa.Table(
    "relay_credential",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("authenticated_at", Moment, nullable=False),
    sa.Column("expires_at", Moment, nullable=False),
    sa.CheckConstraint(f"id = {CREDENTIAL_ROW}", name="ck_relay_credential_one_row"),
)

publications = sa.Table(
    "relay_publications",
    metadata,
    sa.Column("folder", sa.String, primary_key=True),
    sa.Column("setup", sa.Text, nullable=False),  # the §4.1 document
    sa.Column("published_at", Moment, nullable=False),
)
