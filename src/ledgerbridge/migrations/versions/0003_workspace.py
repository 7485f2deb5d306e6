"""The workspace: clients, entries, revisions, history, rejections, outbox, mirror.

Revision ID: 0003_workspace
Revises: 0002_relay
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_workspace"
down_revision: str | Sequence[str] | None = "0002_relay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables are written out as they stand at this revision, not taken from
# workspace/tables.py: a later change of the code must not change what this step creates.
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ws_clients",
        sa.Column("folder", sa.String, primary_key=True),
        sa.Column("api_enabled", sa.Boolean, nullable=False),
        sa.Column("auto_send", sa.String, nullable=False),
        sa.Column("send_at", sa.String(5), nullable=False),
        sa.Column("timezone", sa.String, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("sync_lease_until", Moment, nullable=True),
        sa.Column("last_nightly_on", sa.Date, nullable=True),
    )
    op.create_table(
        "ws_entries",
        sa.Column("client", sa.String, sa.ForeignKey("ws_clients.folder"), primary_key=True),
        sa.Column("entry_id", sa.String, primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("imported_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.Column("code", sa.String, nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("findings", sa.Text, nullable=True),
        sa.Column("entry_number", sa.Integer, nullable=True),
        sa.Column("fiscal_year", sa.String, nullable=True),
        sa.Column("batch_id", sa.String, nullable=True),
        sa.Column("attempted_at", Moment, nullable=True),
        sa.Column("predicted", sa.Text, nullable=True),
        sa.Column("predicted_against", sa.String(64), nullable=True),
    )
    op.create_index("ix_ws_entries_status", "ws_entries", ["client", "status"])
    op.create_table(
        "ws_revisions",
        sa.Column("client", sa.String, primary_key=True),
        sa.Column("entry_id", sa.String, primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
    )
    op.create_table(
        "ws_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client", sa.String, nullable=False),
        sa.Column("entry_id", sa.String, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("at", Moment, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("from_status", sa.String, nullable=True),
        sa.Column("to_status", sa.String, nullable=False),
        sa.Column("message", sa.Text, nullable=True),
    )
    op.create_index("ix_ws_history_entry", "ws_history", ["client", "entry_id"])
    op.create_table(
        "ws_rejections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("client", sa.String, nullable=False),
        sa.Column("entry_id", sa.String, nullable=True),
        sa.Column("revision", sa.Integer, nullable=True),
        sa.Column("item", sa.String, nullable=True),
        sa.Column("code", sa.String, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("at", Moment, nullable=False),
        sa.Column("expected", sa.Boolean, nullable=False),
    )
    op.create_index("ix_ws_rejections_client", "ws_rejections", ["client", "at"])
    op.create_table(
        "ws_outbox",
        sa.Column("batch_id", sa.String, primary_key=True),
        sa.Column("client", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("deposited_at", Moment, nullable=True),
    )
    op.create_table(
        "ws_mirror",
        sa.Column("client", sa.String, primary_key=True),
        sa.Column("setup", sa.Text, nullable=False),
        sa.Column("published_at", Moment, nullable=False),
        sa.Column("received_at", Moment, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "ws_mirror",
        "ws_outbox",
        "ws_rejections",
        "ws_history",
        "ws_revisions",
        "ws_entries",
        "ws_clients",
    ):
        op.drop_table(table)
