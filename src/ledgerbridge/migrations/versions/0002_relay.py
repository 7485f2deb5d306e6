"""The relay: batches in transit and their items, results, connectors, credential, publications.

Revision ID: 0002_relay
Revises: 0001_ledger
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_relay"
down_revision: str | Sequence[str] | None = "0001_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Moment = sa.DateTime(timezone=True)
ResultKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "relay_batches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.String, nullable=False, unique=True),
        sa.Column("folder", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("deposited_at", Moment, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("injected_at", Moment, nullable=True),
        sa.Column("last_attempt_at", Moment, nullable=True),
        sa.Column("last_wait_reason", sa.Text, nullable=True),
        sa.CheckConstraint("kind IN ('entries', 'reference')", name="ck_relay_batches_kind"),
        sa.CheckConstraint("state IN ('waiting', 'injected')", name="ck_relay_batches_state"),
    )
    op.create_index("ix_relay_batches_folder_state", "relay_batches", ["folder", "state", "id"])
    op.create_table(
        "relay_batch_items",
        sa.Column("batch", sa.Integer, sa.ForeignKey("relay_batches.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_table(
        "relay_results",
        sa.Column("id", ResultKey, primary_key=True, autoincrement=True),
        sa.Column("batch", sa.Integer, sa.ForeignKey("relay_batches.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("folder", sa.String, nullable=False),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("item", sa.String, nullable=True),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("expected", sa.Boolean, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("delivered_at", Moment, nullable=True),
        sa.UniqueConstraint("batch", "position", name="uq_relay_results_item"),
    )
    op.create_index(
        "ix_relay_results_undelivered",
        "relay_results",
        ["folder", "id"],
        sqlite_where=sa.text("delivered_at IS NULL"),
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.create_table(
        "relay_connectors",
        sa.Column("folder", sa.String, primary_key=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("consent", sa.Boolean, nullable=False),
        sa.Column("changed_at", Moment, nullable=False),
    )
    op.create_table(
        "relay_credential",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("authenticated_at", Moment, nullable=False),
        sa.Column("expires_at", Moment, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_relay_credential_one_row"),
    )
    op.create_table(
        "relay_publications",
        sa.Column("folder", sa.String, primary_key=True),
        sa.Column("setup", sa.Text, nullable=False),
        sa.Column("published_at", Moment, nullable=False),
    )


def downgrade() -> None:
    op.drop_index("ix_relay_results_undelivered", table_name="relay_results")
    op.drop_index("ix_relay_batches_folder_state", table_name="relay_batches")
    for table in (
        "relay_publications",
        "relay_credential",
        "relay_connectors",
        "relay_results",
        "relay_batch_items",
        "relay_batches",
    ):
        op.drop_table(table)
