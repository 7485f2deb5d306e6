"""A batch's items and its answers kept by chunks in the relay, not one row each.

The relay kept a row per item of a deposited batch (relay_batch_items) and a row per answer
(relay_results): a batch of 100,000 entries was 100,000 rows inserted at its deposit, read at
its injection, inserted again as answers, read by the workspace and updated by its
acknowledgement. Both are now kept by chunks of up to 1,000, one row each, the documents in
one JSON text (relay/chunks.py): relay_item_chunks, `[[position, key, kind, content], ...]`,
and relay_result_chunks, `[[position, key, item, result, expected], ...]`, where content and
result are the JSON documents themselves (a document that is not strict JSON, which the
relay never writes but an old deposit may hold, goes as its text, a JSON string).

The items of the batches still waiting move into chunks of their batch, in order; those of
batches already injected are never read again, and go. Every result moves, delivered or
not, into chunks of consecutive results of one batch that share their times (a chunk is
delivered whole), in their order, so that the workspace collects them in the same order. The
downgrade makes the two tables again, a row per item and per answer, from the chunks.

Revision ID: 0012_relay_chunks
Revises: 0011_history_events
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from itertools import groupby, islice
from typing import Any

import msgspec
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Connection

revision: str = "0012_relay_chunks"
down_revision: str | Sequence[str] | None = "0011_history_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Moment = sa.DateTime(timezone=True)
ResultKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CHUNK_ITEMS = 1000  # items, or answers, per chunk
PAGE_SIZE = 1000  # results read at a time
CHUNKS_PER_PAGE = 10  # chunks of results read at a time, on the way down

_ENCODER = msgspec.json.Encoder()
_STRICT = msgspec.json.Decoder()
_ITEMS = msgspec.json.Decoder(list[tuple[int, str, str, msgspec.Raw]])
_ANSWERS = msgspec.json.Decoder(list[tuple[int, str, str | None, msgspec.Raw, bool]])
_QUOTE = ord('"')


def upgrade() -> None:
    connection = op.get_bind()
    _chunk_tables()
    insert_items = sa.text(
        "INSERT INTO relay_item_chunks (batch, first_position, items)"
        " VALUES (:batch, :first_position, :items)"
    )
    for chunk in _item_chunks_of_waiting_batches(connection):
        connection.execute(insert_items, chunk)
    insert_answers = sa.text(
        "INSERT INTO relay_result_chunks"
        " (batch, first_position, folder, answers, created_at, delivered_at)"
        " VALUES (:batch, :first_position, :folder, :answers, :created_at, :delivered_at)"
    )
    for chunk in _result_chunks(connection):
        connection.execute(insert_answers, chunk)
    op.drop_index("ix_relay_results_undelivered", table_name="relay_results")
    op.drop_table("relay_results")
    op.drop_table("relay_batch_items")


def downgrade() -> None:
    connection = op.get_bind()
    _row_tables()
    insert_items = sa.text(
        'INSERT INTO relay_batch_items (batch, position, "key", kind, content)'
        " VALUES (:batch, :position, :key, :kind, :content)"
    )
    for rows in _items_of_chunks(connection):
        connection.execute(insert_items, rows)
    insert_results = sa.text(
        'INSERT INTO relay_results (batch, position, folder, "key", item, result, expected,'
        " created_at, delivered_at) VALUES (:batch, :position, :folder, :key, :item, :result,"
        " :expected, :created_at, :delivered_at)"
    )
    for rows in _results_of_chunks(connection):
        connection.execute(insert_results, rows)
    op.drop_index("ix_relay_result_chunks_undelivered", table_name="relay_result_chunks")
    op.drop_table("relay_result_chunks")
    op.drop_table("relay_item_chunks")


# -- up: rows into chunks


def _embedded(text: str) -> msgspec.Raw | str:
    """A document as a chunk keeps it: itself when strict JSON, else its text."""
    try:
        _STRICT.decode(text)
    except msgspec.DecodeError:
        return text
    return msgspec.Raw(text)


def _result(text: str) -> msgspec.Raw:
    """A result as a chunk keeps it: itself, or once read, written again as strict JSON."""
    embedded = _embedded(text)
    if isinstance(embedded, str):
        return msgspec.Raw(_ENCODER.encode(json.loads(text)))
    return embedded


def _item_chunks_of_waiting_batches(connection: Connection) -> Iterator[dict[str, Any]]:
    """The chunks of each waiting batch's items, in order, one at a time."""
    waiting = connection.execute(
        sa.text("SELECT id FROM relay_batches WHERE state = 'waiting' ORDER BY id")
    ).scalars()
    chunk = sa.text(
        'SELECT position, "key", kind, content FROM relay_batch_items'
        " WHERE batch = :batch AND position > :after ORDER BY position LIMIT :size"
    )
    for batch in list(waiting):
        after = -1
        while rows := connection.execute(
            chunk, {"batch": batch, "after": after, "size": CHUNK_ITEMS}
        ).all():
            items = [
                (position, key, kind, _embedded(content)) for position, key, kind, content in rows
            ]
            after = items[-1][0]
            yield {
                "batch": batch,
                "first_position": items[0][0],
                "items": _ENCODER.encode(items).decode(),
            }


def _old_results(connection: Connection) -> Iterator[sa.Row[Any]]:
    """Every result, in order, read a page at a time."""
    page = sa.text(
        'SELECT id, batch, position, folder, "key", item, result, expected, created_at,'
        " delivered_at FROM relay_results WHERE id > :after ORDER BY id LIMIT :size"
    )
    after = -1
    while rows := connection.execute(page, {"after": after, "size": PAGE_SIZE}).all():
        after = rows[-1].id
        yield from rows


def _shared(row: sa.Row[Any]) -> tuple[Any, ...]:
    """What the results of one chunk have in common."""
    return row.batch, row.folder, row.created_at, row.delivered_at


def _result_chunks(connection: Connection) -> Iterator[dict[str, Any]]:
    """Consecutive results of one batch that share their times, by chunks, in their order."""
    for (batch, folder, created_at, delivered_at), rows in groupby(
        _old_results(connection), key=_shared
    ):
        while part := list(islice(rows, CHUNK_ITEMS)):
            answers = [
                (row.position, row.key, row.item, _result(row.result), bool(row.expected))
                for row in part
            ]
            yield {
                "batch": batch,
                "first_position": part[0].position,
                "folder": folder,
                "answers": _ENCODER.encode(answers).decode(),
                "created_at": created_at,
                "delivered_at": delivered_at,
            }


# -- down: chunks into rows


def _text(document: msgspec.Raw) -> str:
    """A document's JSON text, from its chunk."""
    if memoryview(document)[0] == _QUOTE:
        text: str = _STRICT.decode(document)
        return text
    return bytes(document).decode()


def _items_of_chunks(connection: Connection) -> Iterator[list[dict[str, Any]]]:
    """A row per item, a chunk at a time."""
    kept = connection.execute(
        sa.text("SELECT DISTINCT batch FROM relay_item_chunks ORDER BY batch")
    ).scalars()
    chunk = sa.text(
        "SELECT first_position, items FROM relay_item_chunks"
        " WHERE batch = :batch AND first_position > :after ORDER BY first_position LIMIT 1"
    )
    for batch in list(kept):
        after = -1
        while row := connection.execute(chunk, {"batch": batch, "after": after}).first():
            after, items = row
            yield [
                {
                    "batch": batch,
                    "position": position,
                    "key": key,
                    "kind": kind,
                    "content": _text(content),
                }
                for position, key, kind, content in _ITEMS.decode(items)
            ]


def _results_of_chunks(connection: Connection) -> Iterator[list[dict[str, Any]]]:
    """A row per answer, in the chunks' order, a few chunks at a time."""
    page = sa.text(
        "SELECT id, batch, folder, answers, created_at, delivered_at FROM relay_result_chunks"
        " WHERE id > :after ORDER BY id LIMIT :size"
    )
    after = -1
    while rows := connection.execute(page, {"after": after, "size": CHUNKS_PER_PAGE}).all():
        after = rows[-1].id
        yield [
            {
                "batch": row.batch,
                "position": position,
                "folder": row.folder,
                "key": key,
                "item": item,
                "result": bytes(result).decode(),
                "expected": expected,
                "created_at": row.created_at,
                "delivered_at": row.delivered_at,
            }
            for row in rows
            for position, key, item, result, expected in _ANSWERS.decode(row.answers)
        ]


# -- the tables


def _chunk_tables() -> None:
    """The chunks' tables as relay/tables.py reads them."""
    op.create_table(
        "relay_item_chunks",
        sa.Column("batch", sa.Integer, sa.ForeignKey("relay_batches.id"), primary_key=True),
        sa.Column("first_position", sa.Integer, primary_key=True),
        sa.Column("items", sa.Text, nullable=False),
    )
    op.create_table(
        "relay_result_chunks",
        sa.Column("id", ResultKey, primary_key=True, autoincrement=True),
        sa.Column("batch", sa.Integer, sa.ForeignKey("relay_batches.id"), nullable=False),
        sa.Column("first_position", sa.Integer, nullable=False),
        sa.Column("folder", sa.String, nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("delivered_at", Moment, nullable=True),
        sa.UniqueConstraint("batch", "first_position", name="uq_relay_result_chunks_item"),
    )
    op.create_index(
        "ix_relay_result_chunks_undelivered",
        "relay_result_chunks",
        ["folder", "id"],
        sqlite_where=sa.text("delivered_at IS NULL"),
        postgresql_where=sa.text("delivered_at IS NULL"),
    )


def _row_tables() -> None:
    """The items' and results' tables as 0002_relay made them."""
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
