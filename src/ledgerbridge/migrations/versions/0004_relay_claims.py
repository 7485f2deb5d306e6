"""Relay batches claimed by the opening that injects them, so two openings never both do.

Revision ID: 0004_relay_claims
Revises: 0003_workspace
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_relay_claims"
down_revision: str | Sequence[str] | None = "0003_workspace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("relay_batches") as table:
        table.add_column(sa.Column("claimed_by", sa.String, nullable=True))
        table.add_column(sa.Column("claimed_until", Moment, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("relay_batches") as table:
        table.drop_column("claimed_until")
        table.drop_column("claimed_by")
