"""The process holding a client's sync lease, so that a lease left by a dead sync is taken over.

Revision ID: 0008_sync_lease_holder
Revises: 0007_entry_content_in_revisions
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_sync_lease_holder"
down_revision: str | Sequence[str] | None = "0007_entry_content_in_revisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases: a batch operation would copy ws_clients, which the
# workspace's other tables reference, and SQLite refuses to drop a referenced table.


def upgrade() -> None:
    op.add_column("ws_clients", sa.Column("sync_lease_holder", sa.String, nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE ws_clients DROP COLUMN sync_lease_holder")
