"""Posted entries looked up by id: an id is posted once in a folder, whatever its key.

A direct `ledger post` keys an entry by its id; the workspace keys it by client, id and
revision. The ledger now also finds an entry by its id, so that the same entry sent both ways
is posted once (answered as a replay, or refused as a conflict when its content differs).
Entries posted twice before this stay as they are: posted entries never change.

Revision ID: 0014_ledger_entry_ids
Revises: 0013_rejection_settled
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014_ledger_entry_ids"
down_revision: str | Sequence[str] | None = "0013_rejection_settled"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_ledger_entries_entry_id", "ledger_entries", ["folder_id", "entry_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_entry_id", table_name="ledger_entries")
