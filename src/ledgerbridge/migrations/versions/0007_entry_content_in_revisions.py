"""An entry's document kept once, in its revision, not again in the entry's row.

Every revision of an entry was stored in ws_revisions, and the current one again in
ws_entries.content, which each change of status then wrote anew. The entry's row now holds
its status and the rest; its document is read from its current revision. Before the column
goes, any current revision missing from ws_revisions is added from it, so that no document
is lost.

Revision ID: 0007_entry_content_in_revisions
Revises: 0006_lines_without_rowid
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_entry_content_in_revisions"
down_revision: str | Sequence[str] | None = "0006_lines_without_rowid"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CURRENT_REVISION = (
    "ws_revisions.client = ws_entries.client AND ws_revisions.entry_id = ws_entries.entry_id"
    " AND ws_revisions.revision = ws_entries.revision"
)


def upgrade() -> None:
    op.execute(
        "INSERT INTO ws_revisions (client, entry_id, revision, content, created_at)"
        " SELECT client, entry_id, revision, content, updated_at FROM ws_entries"
        f" WHERE NOT EXISTS (SELECT 1 FROM ws_revisions WHERE {_CURRENT_REVISION})"
    )
    with op.batch_alter_table("ws_entries") as table:
        table.drop_column("content")


def downgrade() -> None:
    with op.batch_alter_table("ws_entries") as table:
        table.add_column(sa.Column("content", sa.Text, nullable=True))
    op.execute(
        "UPDATE ws_entries SET content ="
        f" (SELECT content FROM ws_revisions WHERE {_CURRENT_REVISION})"
    )
    with op.batch_alter_table("ws_entries") as table:
        table.alter_column("content", existing_type=sa.Text, nullable=False)
