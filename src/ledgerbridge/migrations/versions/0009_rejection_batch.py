"""The batch a rejection answered, so that a rejection delivered twice is kept once and one
received again in a later batch is kept again.

Revision ID: 0009_rejection_batch
Revises: 0008_sync_lease_holder
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_rejection_batch"
down_revision: str | Sequence[str] | None = "0008_sync_lease_holder"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ws_rejections", sa.Column("batch_id", sa.String, nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE ws_rejections DROP COLUMN batch_id")
