"""The relay's tables (SQLAlchemy Core), as the migrations make them (0002_relay, 0012).

Batches and their items are rows, so a batch survives a restart until it is injected;
results stay until the workspace has taken them. Items and answers are kept by chunks, one
row per CHUNK_ITEMS of them: a batch of 100,000 entries is a hundred rows to write, read and
acknowledge, not 100,000 (see relay/chunks.py for what a chunk holds).
"""

from __future__ import annotations

import sqlalchemy as sa

from ledgerbridge.db import Moment

metadata = sa.MetaData()

# SQLite numbers rows itself only for a column declared exactly INTEGER PRIMARY KEY.
ResultKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

WAITING = "waiting"
INJECTED = "injected"
# Items of a batch per chunk, and answers per chunk: a chunk is read, decoded and written as
# one value, so it also bounds what an opening holds of a batch at a time.
CHUNK_ITEMS = 1000


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

item_chunks = sa.Table(
    "relay_item_chunks",
    metadata,
    sa.Column("batch", sa.Integer, sa.ForeignKey("relay_batches.id"), primary_key=True),
    # The position of its first item (0, CHUNK_ITEMS, ...): the opening reads a batch chunk
    # after chunk, in this order.
    sa.Column("first_position", sa.Integer, primary_key=True),
    # `[[position, key, kind, content], ...]`: the key is an entry's idempotency key, or
    # `account:401000` / `third_party:FEDF` for reference data; kind is entry | account |
    # third_party; the content is the §4.2 entry or §4.1 item itself, as JSON.
    sa.Column("items", sa.Text, nullable=False),
)

result_chunks = sa.Table(
    "relay_result_chunks",
    metadata,
    # Delivery order; every answer of the chunk goes, and is acknowledged, under this id.
    sa.Column("id", ResultKey, primary_key=True, autoincrement=True),
    sa.Column("batch", sa.Integer, sa.ForeignKey("relay_batches.id"), nullable=False),
    # The position of the first item it answers.
    sa.Column("first_position", sa.Integer, nullable=False),
    sa.Column("folder", sa.String, nullable=False),
    # `[[position, key, item, result, expected], ...]`, in the batch's order: `item` names
    # reference data (`third party FEDF`), `result` is the §4.3 result itself, as JSON.
    sa.Column("answers", sa.Text, nullable=False),
    sa.Column("created_at", Moment, nullable=False),
    sa.Column("delivered_at", Moment, nullable=True),
    # One answer per item: a batch is marked injected once, with its results.
    sa.UniqueConstraint("batch", "first_position", name="uq_relay_result_chunks_item"),
    sa.Index(
        "ix_relay_result_chunks_undelivered",
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
