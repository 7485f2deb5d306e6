"""When a refusal of reference data was settled: a later connection had the ledger take the
item, or found it there. An entry's rejection is settled by its entry's status instead.

Revision ID: 0013_rejection_settled
Revises: 0012_relay_chunks
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_rejection_settled"
down_revision: str | Sequence[str] | None = "0012_relay_chunks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ws_rejections", sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.execute("ALTER TABLE ws_rejections DROP COLUMN settled_at")
