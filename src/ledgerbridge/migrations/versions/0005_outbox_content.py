"""A reference batch's items kept in the outbox, so an interrupted send is sent again.

Revision ID: 0005_outbox_content
Revises: 0004_relay_claims
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_outbox_content"
down_revision: str | Sequence[str] | None = "0004_relay_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ws_outbox") as table:
        table.add_column(sa.Column("content", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ws_outbox") as table:
        table.drop_column("content")
